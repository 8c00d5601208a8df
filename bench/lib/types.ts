import type { EngineProcess } from '../../loadtests/lib/engine-process.js';
import type { BenchOptions } from './options.js';
import type { RunSummary } from './summary.js';

/** What `bench/load.ts` is told to do; it runs in its own process and prints autocannon's result. */
export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** seconds; ignored when `amount` is set */
  duration?: number;
  /** total number of requests, instead of a duration */
  amount?: number;
  /** a customer JWT per request, round robin over `users` distinct users */
  auth?: { jwtSecret: string; users: number };
  /** a fresh `Idempotency-Key` (a UUID) per request */
  idempotencyKeys?: boolean;
}

/** A plain HTTP server in a child process. */
export interface Service {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** What every section gets: options, shared servers (started on first use), a progress logger. */
export interface BenchContext {
  opts: BenchOptions;
  engine(): Promise<EngineProcess>;
  plain(): Promise<Service>;
  log(message: string): void;
}

/** One line of the summary table. `pass` undefined = no target. */
export interface Row {
  metric: string;
  value: string;
  baseline?: string;
  ratio?: string;
  target?: string;
  pass?: boolean;
}

export interface LabeledRun extends RunSummary {
  label: string;
}

export interface SectionResult {
  rows: Row[];
  /** individual load runs, listed in the detail table */
  runs?: LabeledRun[];
  notes?: string[];
  /** everything measured, for the JSON file */
  raw: unknown;
}

export interface Section {
  /** the name used by `--only` */
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}
