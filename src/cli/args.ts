import { ConfigError } from '../core/errors.js';

/** One command-line flag: its name, what it takes, its default and its help line. */
export interface FlagSpec {
  name: string;
  kind: 'number' | 'string' | 'boolean';
  help: string;
  default?: number | string | boolean;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
}

/** Parses `--name value`, `--name=value` and boolean `--name` / `--no-name` flags. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): Record<string, number | string | boolean | undefined> {
  const out: Record<string, number | string | boolean | undefined> = {};
  for (const s of specs) out[s.name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new ConfigError(`keel: unexpected argument '${arg}' (flags start with --; see keel --help)`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let negated = false;
    if (name.startsWith('no-') && specs.some((s) => s.name === name.slice(3) && s.kind === 'boolean')) {
      name = name.slice(3);
      negated = true;
    }
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) {
      const near = specs.filter((s) => s.name.includes(name) || name.includes(s.name)).map((s) => `--${s.name}`);
      throw new ConfigError(`keel: unknown flag '--${name}'${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}; see keel --help`);
    }
    if (spec.kind === 'boolean') {
      if (value !== undefined) throw new ConfigError(`keel: --${name} takes no value (got '${value}')`);
      out[name] = !negated;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new ConfigError(`keel: --${name} needs a value (${spec.help})`);
    }
    if (spec.kind === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`keel: --${name} must be a number (got '${value}')`);
      out[name] = n;
    } else {
      if (spec.choices !== undefined && !spec.choices.includes(value))
        throw new ConfigError(`keel: --${name} must be one of ${spec.choices.join(', ')} (got '${value}')`);
      out[name] = value;
    }
  }
  return out;
}

/** The help text for `specs`. */
export function helpText(usage: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.kind === 'boolean' ? '' : ` <${s.choices?.join('|') ?? s.kind}>`}`;
    const def = s.default === undefined ? '' : ` (default ${String(s.default)})`;
    return `${left.padEnd(44)} ${s.help}${def}`;
  });
  return `${usage}\n\n${rows.join('\n')}\n`;
}
