import type { TestProject } from 'vitest/node';
import { canConnect } from '../../src/tools/reachable.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** a URL of the Postgres server; each test file creates and drops its own database on it */
    postgresUrl: string;
  }
}

/**
 * Where the suite's Redis and Postgres come from: REDIS_URL / DATABASE_URL if set, else the local
 * services on their default ports, else containers when a Docker engine is reachable.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  let redisUrl = process.env.REDIS_URL;
  let postgresUrl = process.env.DATABASE_URL;
  redisUrl ??= (await canConnect('127.0.0.1', 6379)) ? 'redis://127.0.0.1:6379' : undefined;
  postgresUrl ??= (await canConnect('127.0.0.1', 5432)) ? 'postgres://postgres@127.0.0.1:5432/postgres' : undefined;
  if (!redisUrl || !postgresUrl) {
    const { dockerAvailable, startContainers } = await import('./containers.js');
    if (!(await dockerAvailable())) {
      throw new Error(
        'tests need Redis and Postgres: set REDIS_URL and DATABASE_URL, run them on 127.0.0.1:6379 / :5432, or start a Docker engine',
      );
    }
    const started = await startContainers();
    project.provide('redisUrl', redisUrl ?? started.redisUrl);
    project.provide('postgresUrl', postgresUrl ?? started.databaseUrl);
    return started.stop;
  }
  project.provide('redisUrl', redisUrl);
  project.provide('postgresUrl', postgresUrl);
}
