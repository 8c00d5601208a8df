import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isScenarioName, SCENARIO_NAMES } from './lib/scenario-config.js';
import { formatSummary } from './runner/report.js';
import { runScenario } from './runner/run-scenario.js';

const USAGE = `usage: npm run loadtest -- <${SCENARIO_NAMES.join('|')}> [options]

  --vus N               virtual users (default: scenarios.json)
  --duration S          seconds of load (default: scenarios.json)
  --target URL          a running engine; without it an engine is started for the run and stopped after
  --admin-token T       with --target (default ADMIN_TOKEN, else the dev default)
  --jwt-secret S        with --target (default JWT_SECRET, else the dev default)
  --webhook-secret S    with --target (default WEBHOOK_SECRET, else the dev default)
  --database-url U      with --target: the engine's Postgres, to count and check paid orders (default DATABASE_URL, else skipped)
  --engine-pid P        with --target: the engine's pid on this machine, to sample its memory (soak)
  --drain S             seconds to wait for abandoned holds/orders to expire (checkout; default 30 when self-started, else 0)
  --json FILE           also write the summary as JSON
  --progress MODE       auto (terminal only, default) | always | never`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      vus: { type: 'string' },
      duration: { type: 'string' },
      target: { type: 'string' },
      'admin-token': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'webhook-secret': { type: 'string' },
      'database-url': { type: 'string' },
      'engine-pid': { type: 'string' },
      drain: { type: 'string' },
      json: { type: 'string' },
      progress: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const name = positionals[0];
  if (values.help || !name || !isScenarioName(name) || positionals.length > 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const num = (flag: string, v: string | undefined, min = 0) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${flag} must be a number >= ${min}, got ${v}`);
    return n;
  };
  const progress = values.progress ?? 'auto';
  if (progress !== 'auto' && progress !== 'always' && progress !== 'never') throw new Error(`--progress must be auto, always or never`);

  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    console.error('\ninterrupted: ending the load phase, then checking and cleaning up (Ctrl-C again to quit at once, leaving the cleanup undone)');
    interrupt.abort();
    process.once('SIGINT', () => process.exit(130));
  });

  const summary = await runScenario(name, {
    vus: num('vus', values.vus, 1),
    durationS: num('duration', values.duration, 1),
    target: values.target,
    adminToken: values['admin-token'],
    jwtSecret: values['jwt-secret'],
    webhookSecret: values['webhook-secret'],
    databaseUrl: values['database-url'],
    enginePid: num('engine-pid', values['engine-pid']),
    drainS: num('drain', values.drain),
    progress,
    signal: interrupt.signal,
  });
  console.log(formatSummary(summary));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(summary, null, 2)}\n`);
  return summary.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
