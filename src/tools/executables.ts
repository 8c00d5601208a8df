import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The directories of `env.PATH`, in order. */
export function pathDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean);
}

/** The first executable file called `name` in `dirs`. */
export function findExecutable(name: string, dirs: string[]): string | undefined {
  return dirs.map((d) => path.join(d, name)).find(isExecutable);
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
