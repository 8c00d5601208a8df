import { readFileSync } from 'node:fs';
import { DEV_SECRETS } from '../../src/config.js';
import { startEngineProcess } from '../../src/tools/engine-process.js';
import type { Credentials } from '../steps/types.js';

/** Where a run sends its load: an engine it started itself, or one given with `--target`. */
export interface Target {
  url: string;
  credentials: Credentials;
  /** the engine's database, when known: enables the Postgres check */
  databaseUrl: string | undefined;
  /** the engine's process id, when known: enables RSS sampling */
  pid: number | undefined;
  startedHere: boolean;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** base URL of a running engine; without it an engine is started for the run */
  target?: string | undefined;
  adminToken?: string | undefined;
  jwtSecret?: string | undefined;
  webhookSecret?: string | undefined;
  databaseUrl?: string | undefined;
  /** pid of a running engine on this machine, to sample its memory */
  enginePid?: number | undefined;
  /** services for a self-started engine (default REDIS_URL / DATABASE_URL or the local ones) */
  redisUrl?: string | undefined;
  postgresUrl?: string | undefined;
  /** extra environment for a self-started engine, over the scenario's `engine_env` */
  engineEnv?: Record<string, string> | undefined;
}

export async function openTarget(opts: TargetOptions, scenarioEnv: Record<string, string>): Promise<Target> {
  if (opts.target) {
    return {
      url: opts.target.replace(/\/+$/, ''),
      credentials: {
        adminToken: opts.adminToken ?? process.env.ADMIN_TOKEN ?? DEV_SECRETS.ADMIN_TOKEN,
        jwtSecret: opts.jwtSecret ?? process.env.JWT_SECRET ?? DEV_SECRETS.JWT_SECRET,
        webhookSecret: opts.webhookSecret ?? process.env.WEBHOOK_SECRET ?? DEV_SECRETS.WEBHOOK_SECRET,
      },
      databaseUrl: opts.databaseUrl ?? process.env.DATABASE_URL,
      pid: opts.enginePid,
      startedHere: false,
      stop: async () => {},
    };
  }
  const engine = await startEngineProcess({
    redisUrl: opts.redisUrl,
    postgresUrl: opts.postgresUrl,
    env: { ...scenarioEnv, ...opts.engineEnv },
  });
  return {
    url: engine.url,
    credentials: { adminToken: engine.adminToken, jwtSecret: engine.jwtSecret, webhookSecret: engine.webhookSecret },
    databaseUrl: engine.databaseUrl,
    pid: engine.pid,
    startedHere: true,
    stop: () => engine.stop(),
  };
}

/** Current resident set size of a local process (VmRSS), or undefined when it cannot be read. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
