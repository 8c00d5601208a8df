/**
 * `npm run bench -- [flags]`: runs the sections in bench/sections against one engine process
 * (API + worker), one plain Hono server and the row-lock baseline, each in its own process, with the
 * load generators in others, then writes bench/results/<date>.{json,md,svg} and latest.{md,svg} and
 * prints the table.
 */
import { loadavg } from 'node:os';
import { startEngineProcess, type EngineProcess } from '../src/tools/engine-process.js';
import { BENCH_ENGINE_ENV } from './lib/engine-api.js';
import { fmtMB } from './lib/format.js';
import { watchLive, type LiveViewers } from './lib/live-viewers.js';
import { parseOptions } from './lib/options.js';
import { startPlainServer } from './lib/processes.js';
import { localDate, machineInfo, writeResults, type BenchReport, type SectionReport } from './lib/report.js';
import { startRowLockServer } from './lib/rowlock.js';
import type { BenchContext, RowLockService, Section, SectionResult, Service } from './lib/types.js';
import { SECTIONS } from './sections/index.js';

const MAX_ENGINE_RSS_BYTES = 300e6;

const log = (message: string) => process.stderr.write(`${message}\n`);

/** Starts a service on first use and remembers it. */
function lazy<T>(start: () => Promise<T>): { get: () => Promise<T>; started: () => Promise<T> | undefined } {
  let p: Promise<T> | undefined;
  return { get: () => (p ??= start()), started: () => p };
}

/** VmHWM of the engine; NaN once it has exited (a crash is then reported, not thrown). */
function peakRss(engine: EngineProcess): number {
  try {
    return engine.peakRssBytes();
  } catch {
    return NaN;
  }
}

/** Peak RSS of the engine, as a table section of its own. */
function engineSection(engine: EngineProcess, peakAfter: Record<string, number>, dashboards: { open: number; snapshots: number }): SectionResult {
  const peak = peakRss(engine);
  return {
    rows: [
      {
        metric: 'peak RSS (VmHWM) over the whole bench',
        value: fmtMB(peak),
        baseline: Object.entries(peakAfter).map(([name, b]) => `${fmtMB(b)} after ${name}`).join(', '),
        target: `≤ ${fmtMB(MAX_ENGINE_RSS_BYTES)}`,
        pass: peak <= MAX_ENGINE_RSS_BYTES,
      },
    ],
    notes: [
      `engine: started with HOLD_TTL_MS=${BENCH_ENGINE_ENV.HOLD_TTL_MS}, so holds made by one run never expire during a later one ` +
        '(hold expiry work is not part of these numbers); NODE_ENV=production, LOG_LEVEL=warn, run through tsx.',
      `dashboards: ${dashboards.open} live feed(s) open on the engine during the whole bench, ${dashboards.snapshots} snapshots received.`,
    ],
    raw: { peakRssBytes: peak, peakRssBytesAfter: peakAfter, env: BENCH_ENGINE_ENV, dashboards },
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), SECTIONS.map((s) => s.name));
  const selected: Section[] = SECTIONS.filter((s) => {
    const why = s.unavailable?.(opts);
    if (why !== undefined && opts.only.includes(s.name)) throw new Error(`section ${s.name}: ${why}`);
    if (why !== undefined) log(`section ${s.name} left out: ${why}`);
    return why === undefined && (opts.only.length === 0 || opts.only.includes(s.name));
  });
  const started = new Date();
  const machine = await machineInfo();

  const peakAfter: Record<string, number> = {};
  let viewers: LiveViewers | undefined;
  const engine = lazy(async () => {
    log('starting the engine (mode all)');
    const e = await startEngineProcess({ mode: 'all', env: BENCH_ENGINE_ENV });
    peakAfter.start = peakRss(e);
    if (opts.dashboards > 0) viewers = watchLive(e.url, e.adminToken, opts.dashboards);
    return e;
  });
  const plain = lazy<Service>(() => {
    log('starting the plain Hono server');
    return startPlainServer();
  });
  const rowlock = lazy<RowLockService>(() => {
    log(`starting the row-lock baseline server (pool ${opts.rowlockPool})`);
    return startRowLockServer(opts.rowlockPool);
  });
  const stopAll = () => Promise.allSettled([engine, plain, rowlock].map((s) => s.started()?.then((x) => x.stop())));
  process.once('SIGINT', () => {
    log('interrupted; stopping servers and cleaning up');
    void stopAll().then(() => process.exit(130));
  });
  const ctx: BenchContext = { opts, engine: engine.get, plain: plain.get, rowlock: rowlock.get, log };

  const sections: SectionReport[] = [];
  try {
    for (const section of selected) {
      log(`\n== ${section.title}`);
      try {
        sections.push({ name: section.name, title: section.title, result: await section.run(ctx) });
      } catch (err) {
        log(`section ${section.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        sections.push({ name: section.name, title: section.title, error: err instanceof Error ? err.message : String(err) });
      }
      const e = await engine.started()?.catch(() => undefined);
      if (e) peakAfter[section.name] = peakRss(e);
    }
    const e = await engine.started()?.catch(() => undefined);
    const snapshots = (await viewers?.stop()) ?? 0;
    if (e) sections.push({ name: 'engine', title: 'Engine process (API + worker)', result: engineSection(e, peakAfter, { open: opts.dashboards, snapshots }) });
  } finally {
    await stopAll();
  }

  const report: BenchReport = {
    date: localDate(started),
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    options: opts,
    machine,
    loadAverageAtEnd: loadavg(),
    sections,
  };
  const { files, markdown } = await writeResults(report);
  process.stdout.write(`\n${markdown}\n`);
  log(`written: ${files.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
