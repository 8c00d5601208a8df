import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { renderChart } from './chart.js';
import { fmtInt } from './format.js';
import type { BenchOptions } from './options.js';
import type { SectionResult } from './types.js';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGiB: number;
  os: string;
  nodeVersion: string;
  redisVersion: string;
  postgresVersion: string;
  /** 1/5/15-minute load averages when the bench started: others' work on the machine shows here */
  loadAverageAtStart: number[];
}

export interface SectionReport {
  name: string;
  title: string;
  result?: SectionResult;
  error?: string;
}

export interface BenchReport {
  date: string;
  startedAt: string;
  finishedAt: string;
  options: BenchOptions;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  sections: SectionReport[];
}

const settled = <T>(p: Promise<T>, fallback: T) => p.catch(() => fallback);

export async function machineInfo(): Promise<MachineInfo> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  const sql = postgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', { max: 1, onnotice: () => {} });
  const [redisVersion, postgresVersion] = await Promise.all([
    settled(redis.connect().then(async () => /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?'), 'unreachable'),
    settled(sql`SHOW server_version`.then((rows) => String(rows[0]?.server_version)), 'unreachable'),
  ]);
  redis.disconnect();
  await sql.end();
  return {
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    cores: cpus().length,
    totalMemoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    nodeVersion: process.version,
    redisVersion,
    postgresVersion,
    loadAverageAtStart: loadavg(),
  };
}

/** YYYY-MM-DD in local time. */
export const localDate = (d: Date): string =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

const cell = (s: string | undefined) => (s ?? '').replaceAll('|', '\\|');
const line = (cells: (string | undefined)[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head: string[], rows: (string | undefined)[][]) =>
  [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
const mark = (pass: boolean | undefined) => (pass === undefined ? '' : pass ? '✓' : '✗');
const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

/** Renders the report; `chartFile` is the SVG next to the markdown file. */
export function renderMarkdown(r: BenchReport, chartFile: string): string {
  const m = r.machine;
  const o = r.options;
  const summary = r.sections.flatMap((s) =>
    s.error
      ? [[s.title, 'failed', s.error]]
      : s.result!.rows.map((row, i) => [i === 0 ? s.title : '', row.metric, row.value, row.baseline, row.ratio, row.target, mark(row.pass)]),
  );
  const runs = r.sections.flatMap((s) =>
    (s.result?.runs ?? []).map((x) => [
      s.name, x.label, fmtInt(x.rps), String(x.p50), String(x.p97_5), String(x.p99), fmtInt(x.requests), fmtInt(x.non2xx), fmtInt(x.errors),
      Object.entries(x.statusCodes).map(([code, n]) => `${code}: ${fmtInt(n)}`).join(', '),
    ]),
  );
  const notes = r.sections.flatMap((s) => s.result?.notes ?? []);
  return [
    `# Benchmark ${r.date}`,
    '',
    `${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.os}; Node ${m.nodeVersion}, Redis ${m.redisVersion}, Postgres ${m.postgresVersion}.`,
    `Load average (1/5/15 min) at start ${loads(m.loadAverageAtStart)}, at end ${loads(r.loadAverageAtEnd)}; ` +
      'the servers (engine, plain, row-lock) and the load generators share the machine.',
    `Options: ${o.connections} connections, ${o.runs} × ${o.duration} s runs per target after ${o.warmup} s warm-up, ${fmtInt(o.users)} users, ` +
      `${fmtInt(o.memoryHolds)} holds per memory run (${o.memoryConnections} connections), row-lock pool ${o.rowlockPool}, ` +
      `${fmtInt(o.webhookOrders)} orders in the webhook phase.`,
    '',
    ...(r.sections.some((s) => s.result?.chart?.length) ? [`![chart](${chartFile})`, ''] : []),
    table(['Section', 'Metric', 'Engine', 'Baseline / basis', 'Ratio', 'Target', ''], summary),
    '',
    '## Runs',
    '',
    table(['Section', 'Run', 'req/s (mean)', 'p50 ms', 'p97.5 ms', 'p99 ms', 'requests', 'non-2xx', 'errors', 'status codes'], runs),
    '',
    ...(notes.length > 0 ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/** The chart of every section's bars. */
export const renderSvg = (r: BenchReport): string =>
  renderChart(
    r.sections.flatMap((s) => s.result?.chart ?? []),
    `Flash-sale engine benchmark, ${r.date}`,
    `${r.machine.cpuModel}, ${r.machine.cores} cores; ${r.options.connections} connections, medians of ${r.options.runs} × ${r.options.duration} s runs; ` +
      'load generators on the same machine',
  );

/**
 * Writes results/<date>.{json,md,svg} and results/latest.{md,svg} (each markdown file shows the chart
 * next to it); returns the paths and the markdown. A run of some sections (`--only`) is written as
 * results/<date>-<sections>.* and leaves the full run's files alone.
 */
export async function writeResults(r: BenchReport): Promise<{ files: string[]; markdown: string }> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const svg = renderSvg(r);
  const partial = r.options.only.length > 0;
  const stem = partial ? `${r.date}-${r.options.only.join('+')}` : r.date;
  const markdown = renderMarkdown(r, `${stem}.svg`);
  const files: [string, string][] = [
    [`${stem}.json`, `${JSON.stringify(r, null, 2)}\n`],
    [`${stem}.md`, markdown],
    [`${stem}.svg`, svg],
    ...(partial ? [] : ([['latest.md', renderMarkdown(r, 'latest.svg')], ['latest.svg', svg]] as [string, string][])),
  ];
  await Promise.all(files.map(([name, text]) => writeFile(RESULTS_DIR + name, text)));
  return { files: files.map(([name]) => `bench/results/${name}`), markdown };
}
