import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** A database created for one bench run, next to the others on the server of `DATABASE_URL`. */
export interface ScratchDatabase {
  name: string;
  url: string;
  /** drops it (WITH FORCE, so open connections do not block it) */
  drop(): Promise<void>;
}

/** Creates `fs_bench_<label>_<random>`, as `loadtests/lib/engine-process.ts` does for the engine. */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `fs_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}
