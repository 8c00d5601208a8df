import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fresh directory under the system's temp dir, removed by `remove()` or, at the latest, when this process exits. */
export function tempDir(label: string): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `flashsale-${label}-`));
  const remove = () => {
    process.off('exit', remove);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', remove);
  return { path: dir, remove };
}
