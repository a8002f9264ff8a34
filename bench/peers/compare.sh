#!/usr/bin/env bash
# Keel against the peer suite, interleaved in one session on this machine.
# usage: bench/peers/compare.sh            (build Keel first: npm run build)
# Environment (all optional):
#   PEERS_DIR    a set-up copy of the peer suite, node_modules installed   (default /tmp/peers, else /work/shared/peers)
#   PEERS        comma list: keel keel-js keel-wasm keel-wasm-1t keel-wasm-simd128 + the suite's peers
#                (default keel-wasm,keel-js,torch,tfjs-wasm,tfjs-cpu)
#   WORKLOADS    comma list of w1 w2 w3 w4                                 (default w4,w1)
#   REPS         rounds; the peer order rotates each round                 (default 1)
#   BENCH_MAX_S  measured seconds per training run                         (default 10; the suite's own default is 30)
#   QUIET_WAIT   wait up to this many s before each run for the other processes to use < 0.15 cores (default 0)
#   KEEL_DIST    Keel's entry point                                      (default <repo>/dist/keel.js, the bundle `import "keel"` loads)
#   OUT          raw JSON lines file                                       (default /tmp/keel-compare-<time>.jsonl)
# Prints one JSON line per run on stdout (run_one.mjs's line: the benchmark's fields + peak RSS,
# wall time, background load); progress, the suite's markdown summary and a table of ratios (each
# Keel peer over torch and over tfjs-wasm, medians over this invocation's rounds) go to stderr
# and to OUT with .md. Default settings take ~2 minutes per round (w4 + w1, five peers).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -z "${PEERS_DIR:-}" ]]; then
  if [[ -d /tmp/peers/node_modules ]]; then PEERS_DIR=/tmp/peers; else PEERS_DIR=/work/shared/peers; fi
fi
PEERS=${PEERS:-keel-wasm,keel-js,torch,tfjs-wasm,tfjs-cpu}
WORKLOADS=${WORKLOADS:-w4,w1}
REPS=${REPS:-1}
QUIET_WAIT=${QUIET_WAIT:-0}
KEEL_DIST=${KEEL_DIST:-$REPO/dist/keel.js}
OUT=${OUT:-/tmp/keel-compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
export BENCH_MAX_S=${BENCH_MAX_S:-10}

die() { echo "compare.sh: $*" >&2; exit 1; }
[[ -f "$KEEL_DIST" ]] || die "no Keel build at $KEEL_DIST: run \`npm run build\` in $REPO (or set KEEL_DIST)"
[[ -f "$PEERS_DIR/run_one.mjs" ]] || die "$PEERS_DIR is not the peer suite (set PEERS_DIR)"
[[ -d "$PEERS_DIR/node_modules" ]] ||
  die "$PEERS_DIR has no node_modules: set it up once (cp -r /work/shared/peers /tmp/peers && cd /tmp/peers && bash setup.sh) and pass PEERS_DIR=/tmp/peers"

# A scratch copy of the suite (node_modules linked, not copied) with bench_keel.mjs and a
# snapshot of Keel's build, so that a rebuild during the session cannot mix two versions.
# The Keel peers are appended to the copy's lib/peers.mjs.
WORK=$(mktemp -d /tmp/keel-peers.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
tar -C "$PEERS_DIR" --exclude=./node_modules --exclude=./results -cf - . | tar -C "$WORK" -xf -
ln -s "$(cd "$PEERS_DIR" && pwd)/node_modules" "$WORK/node_modules"
mkdir -p "$WORK/keel"
cp -r "$(dirname "$KEEL_DIST")" "$WORK/keel/dist"
cp "$(dirname "$KEEL_DIST")/../package.json" "$WORK/keel/package.json"
export KEEL_DIST="$WORK/keel/dist/$(basename "$KEEL_DIST")"
cp "$REPO/bench/peers/bench_keel.mjs" "$WORK/"
cat >>"$WORK/lib/peers.mjs" <<'EOF'
// Added by Keel's bench/peers/compare.sh (KEEL_DIST comes from the environment).
PEERS['keel'] = { argv: ['node', 'bench_keel.mjs'], env: { KEEL_PEER: 'keel' } };                              // the default backend
PEERS['keel-js'] = { argv: ['node', 'bench_keel.mjs'], env: { KEEL_PEER: 'keel-js', KEEL_BACKEND: 'js' } };     // the reference backend
PEERS['keel-wasm'] = { argv: ['node', 'bench_keel.mjs'], env: { KEEL_PEER: 'keel-wasm', KEEL_BACKEND: 'wasm' } };
PEERS['keel-wasm-1t'] = { argv: ['node', 'bench_keel.mjs'], env: { KEEL_PEER: 'keel-wasm-1t', KEEL_BACKEND: 'wasm', KEEL_THREADS: '1' } };
PEERS['keel-wasm-simd128'] = { argv: ['node', 'bench_keel.mjs'], env: { KEEL_PEER: 'keel-wasm-simd128', KEEL_BACKEND: 'wasm', KEEL_WASM_RELAXED: '0' } }; // the plain build
EOF

# Busy CPU seconds of the whole machine (USER_HZ = 100), as run_all.mjs.
busy() { awk '/^cpu /{ print ($2 + $3 + $4 + $7 + $8 + $9) / 100 }' /proc/stat; }
wait_quiet() {
  local until=$((SECONDS + QUIET_WAIT)) b0 b1
  while ((SECONDS < until)); do
    b0=$(busy); sleep 1; b1=$(busy)
    awk -v a="$b0" -v b="$b1" 'BEGIN { exit !(b - a < 0.15) }' && return 0
  done
  return 0
}

IFS=, read -ra peers <<<"$PEERS"
IFS=, read -ra wls <<<"$WORKLOADS"
t0=$SECONDS
: >"$WORK/runs.jsonl"
echo "compare.sh: Keel $KEEL_DIST, peers from $PEERS_DIR, BENCH_MAX_S=$BENCH_MAX_S, raw lines -> $OUT" >&2
for ((rep = 1; rep <= REPS; rep++)); do
  for wl in "${wls[@]}"; do
    rot=$(((rep - 1) % ${#peers[@]}))
    for p in "${peers[@]:rot}" "${peers[@]:0:rot}"; do
      ((QUIET_WAIT > 0)) && wait_quiet
      line=$(cd "$WORK" && node run_one.mjs --peer "$p" --workload "$wl" --rep "$rep")
      echo "$line" | tee -a "$OUT"
      echo "$line" >>"$WORK/runs.jsonl"
      echo "$line" | node -e '
        const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const v = r.samples_per_s ? `${r.samples_per_s.toFixed(0)} samples/s, loss ${r.loss_first?.toFixed(3)} -> ${r.loss_last?.toFixed(3)}`
          : r.matmul ? r.matmul.map((m) => `${m.n}: ${m.gflops.toFixed(2)}`).join(", ") + " GFLOP/s" : (r.error || r.skipped || "");
        console.error(`[rep ${r.rep}] ${r.peer} ${r.workload}: ${v}  rss=${r.peak_rss_mb?.toFixed(0)}MB bg=${r.background_cores?.toFixed(2)} exit=${r.exit_code} (${process.argv[1]} s)`);
      ' "$((SECONDS - t0))"
    done
  done
done
(cd "$WORK" && node summarize.mjs "$OUT" --md "${OUT%.jsonl}.md" >/dev/null)

# Ratios from this invocation's runs only (OUT may hold earlier ones): per workload, each Keel
# peer's median samples/s (w4: GFLOP/s per n) over torch's and over tfjs-wasm's.
cat >"$WORK/ratios.mjs" <<'JS'
import { readFileSync } from 'node:fs';
const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .filter((r) => r.exit_code === 0 && !r.error && !r.skipped);
const REFS = ['torch', 'tfjs-wasm'];
const med = (v) => { const s = [...v].sort((x, y) => x - y), n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const fmt = (x) => (!isFinite(x) ? '–' : x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a, b) => (isFinite(a) && isFinite(b) && b > 0 ? (a / b).toFixed(a / b >= 10 ? 1 : a / b >= 1 ? 2 : 3) : '–');
// [label, workload, value of one run]
const metrics = [];
for (const w of ['w1', 'w2', 'w3']) metrics.push([`${w} samples/s`, w, (r) => r.samples_per_s]);
for (const n of [128, 512, 1024]) metrics.push([`w4 ${n}³ GFLOP/s`, 'w4', (r) => r.matmul?.find((m) => m.n === n)?.gflops]);
const value = (peer, [, w, get]) => {
  const rs = rows.filter((r) => r.peer === peer && r.workload === w && get(r) != null && isFinite(get(r)));
  return { m: med(rs.map(get)), n: rs.length, bg: Math.max(0, ...rs.map((r) => r.background_cores ?? 0)) };
};
const keels = [...new Set(rows.map((r) => r.peer))].filter((p) => p.startsWith('keel')).sort();
// bg: the most cores other processes kept busy during any of the row's runs (above ~0.15 the
// numbers are not comparable).
const md = ['### Keel over the peers, this run (medians over its rounds; above 1: Keel is faster)', '',
  `| metric | Keel peer | Keel | ${REFS.map((p) => `${p} | Keel / ${p}`).join(' | ')} | rounds | bg |`,
  `|---|---|---|${REFS.map(() => '---|---').join('|')}|---|---|`];
const header = md.length;
for (const m of metrics)
  for (const k of keels) {
    const kv = value(k, m);
    if (kv.n === 0) continue;
    const refs = REFS.map((p) => value(p, m));
    const bg = Math.max(kv.bg, ...refs.map((rv) => rv.bg));
    md.push(`| ${m[0]} | ${k} | ${fmt(kv.m)} | ${refs.map((rv) => `${fmt(rv.m)} | ${ratio(kv.m, rv.m)}`).join(' | ')} | ${kv.n} | ${bg.toFixed(2)} |`);
  }
if (md.length === header) md.push(`| no Keel run finished | | | ${REFS.map(() => ' | ').join(' | ')} | | |`);
console.log(md.join('\n'));
JS
{ echo; node "$WORK/ratios.mjs" "$WORK/runs.jsonl"; } >>"${OUT%.jsonl}.md"
cat "${OUT%.jsonl}.md" >&2
