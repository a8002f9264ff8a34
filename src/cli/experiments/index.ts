/**
 * The experiments behind `keel experiment NAME`: classic initialization results, each run
 * in-process, printing a compact table and checking its claims (the CLI exits 1 when one fails).
 */
import type { ExperimentOptions, ExperimentResult } from './report.js';
import { he2015 } from './he2015.js';
import { glorot2010 } from './glorot2010.js';
import { scale } from './scale.js';
import { symmetry } from './symmetry.js';
import { pascanu2013 } from './pascanu2013.js';

export type { Claim, ExperimentOptions, ExperimentResult } from './report.js';
export { he2015, type He2015Init, type He2015Options, type He2015Result, type He2015Run } from './he2015.js';
export { glorot2010, type Glorot2010Init, type Glorot2010Options, type Glorot2010Result, type Glorot2010Run } from './glorot2010.js';
export { scale, type ScaleOptions, type ScaleResult, type ScaleRun } from './scale.js';
export { symmetry, type SymmetryOptions, type SymmetryResult, type SymmetryRun } from './symmetry.js';
export { pascanu2013, type Pascanu2013Options, type Pascanu2013Result, type Pascanu2013Run } from './pascanu2013.js';

/** One entry of {@link EXPERIMENTS}: its one-line summary and how to run it. */
export interface Experiment {
  /** The name given to `keel experiment`. */
  name: string;
  /** One line for `keel experiment --help`. */
  summary: string;
  /** Runs it. */
  run(options?: ExperimentOptions): ExperimentResult;
}

/** Every experiment, in the order `keel experiment --help` lists them. */
export const EXPERIMENTS: readonly Experiment[] = [
  {
    name: 'he2015',
    summary: 'He et al. 2015: a 30-layer ReLU MLP trains from He init, stalls at ln 2 from Xavier or PyTorch’s default (~40 s)',
    run: he2015,
  },
  {
    name: 'glorot2010',
    summary: 'Glorot & Bengio 2010: back-propagated gradient shrinks ~10× over 5 tanh layers with U(±1/√n), ~1.6× with Xavier (~1 s)',
    run: glorot2010,
  },
  {
    name: 'scale',
    summary: 'init scale: N(0, 0.01²) vanishes, N(0, 1) explodes, He/Xavier keep the activation std within ~2× over 20 layers (~1 s)',
    run: scale,
  },
  {
    name: 'symmetry',
    summary: 'symmetry: zero/constant init keeps hidden units identical through training; random init breaks the symmetry (~1 s)',
    run: symmetry,
  },
  {
    name: 'pascanu2013',
    summary: 'Pascanu et al. 2013: a tanh RNN learns the T=50 addition problem with clipGradNorm_ 1.0, not without (~2 min on 2 cores)',
    run: pascanu2013,
  },
];
