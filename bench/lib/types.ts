import type { EngineProcess } from '../../src/tools/engine-process.js';
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
  /**
   * a customer JWT per request, round robin over `users` distinct users: HS256 with `jwtSecret`, or
   * RS256 as an identity provider signs them (`rs256`: its PKCS#8 PEM private key); `padTo`: HS256 tokens
   * with a filler claim that makes them about that many characters long (as long as an RS256 one)
   */
  auth?: { users: number } & ({ jwtSecret: string; padTo?: number } | { rs256: { privateKeyPem: string } });
  /** a fresh `Idempotency-Key` (a UUID) per request */
  idempotencyKeys?: boolean;
  /** a body per request, picked at random from these (instead of `body`): e.g. holds spread over many products */
  bodies?: string[];
}

/** A plain HTTP server in a child process. */
export interface Service {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The row-lock baseline server (`bench/rowlock-server.ts`) with its own database. */
export interface RowLockService extends Service {
  /** the HS256 secret its JWT verification uses */
  jwtSecret: string;
  /** pool size of its Postgres connection pool */
  poolSize: number;
  /** inserts a product with this stock; returns its id */
  createProduct(stock: number): Promise<string>;
  /** the product's stock and the holds made on it */
  ledger(productId: string): Promise<{ stock: number; holds: number; heldQty: number }>;
}

/** What every section gets: options, shared servers (started on first use), a progress logger. */
export interface BenchContext {
  opts: BenchOptions;
  engine(): Promise<EngineProcess>;
  plain(): Promise<Service>;
  rowlock(): Promise<RowLockService>;
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

/** One bar of the chart: a target or scenario with its throughput and p99 latency. */
export interface ChartBar {
  label: string;
  /** requests (or flows, webhooks) per second */
  rps: number;
  /** ms */
  p99: number;
}

/** Bars drawn together under one heading (e.g. engine and plain of one comparison). */
export interface ChartGroup {
  title: string;
  bars: ChartBar[];
}

export interface SectionResult {
  rows: Row[];
  /** individual load runs, listed in the detail table */
  runs?: LabeledRun[];
  /** bars for results/<date>.svg */
  chart?: ChartGroup[];
  notes?: string[];
  /** everything measured, for the JSON file */
  raw: unknown;
}

export interface Section {
  /** the name used by `--only` */
  name: string;
  title: string;
  /** why the section cannot run with these options (it is then left out unless named in --only) */
  unavailable?(opts: BenchOptions): string | undefined;
  run(ctx: BenchContext): Promise<SectionResult>;
}
