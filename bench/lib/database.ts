import { randomBytes } from 'node:crypto';
import { createScratchDatabase as createDatabase, type ScratchDatabase } from '../../src/tools/databases.js';

/** Creates `fs_bench_<label>_<random>` next to the others on the server of `DATABASE_URL`, for one bench run. */
export function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  return createDatabase(serverUrl, `fs_bench_${label}_${randomBytes(4).toString('hex')}`);
}
