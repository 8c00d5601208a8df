import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** seconds per measured run */
  duration: number;
  /** seconds of warm-up before the alternating runs */
  warmup: number;
  connections: number;
  /** measured runs per target (plain and engine alternate) */
  runs: number;
  /** section names to run; empty = all */
  only: string[];
  /** distinct customers (pre-signed JWTs) the load cycles through */
  users: number;
  /** holds created per memory measurement */
  memoryHolds: number;
  /** connections used to create the memory-measurement holds */
  memoryConnections: number;
  /** Postgres pool size of the row-lock baseline server */
  rowlockPool: number;
  /** pending orders whose payment webhooks the checkout section fires */
  webhookOrders: number;
  /** seconds per load scenario instead of each one's fixed bench size */
  scenarioDuration: number | undefined;
  /** another checkout of the engine, measured against this one by the `versus` section */
  base: string | undefined;
  /** dashboards whose live feed stays open on the engine during the whole bench */
  dashboards: number;
  /** the queue section's drop: customers in the crowd, sent at an open product and at a waiting room */
  dropCustomers: number;
  /** ... and the units on sale */
  dropStock: number;
}

const USAGE = `usage: npm run bench -- [--duration 10] [--warmup 3] [--connections 100] [--runs 3]
                       [--only holds,soldout,floor,rowlock,memory,checkout,scenarios,auth,versus,queue,spread,durability,recovery]
                       [--users 10000]
                       [--memory-holds 100000] [--memory-connections 200] [--rowlock-pool 10]
                       [--webhook-orders 10000] [--scenario-duration S] [--base DIR] [--dashboards 1]
                       [--drop-customers 2000] [--drop-stock 50]
  --dashboards N  live dashboard feeds kept open on the engine during the whole bench (0: none)
  --drop-customers N, --drop-stock N
                  queue: the crowd sent at an open product and at a waiting room, and the units on sale
  auth     holds with RS256 (identity-provider) tokens against HS256 ones, two engines alternating
  spread   holds over 1 / 30 / 1,000 / 10,000 products, and the CPU per hold of the engine and Redis
  durability  holds on Redis without AOF / with appendfsync always / plus WAIT 1, and writes lost per SIGKILL
  recovery the time from a FLUSHALL of a private Redis holding --memory-holds holds and --webhook-orders
           pending orders until POST /api/admin/recover has rebuilt every product; then the orders are paid
  versus   this checkout's engine against the one in --base DIR (another checkout), alternating;
           left out without --base`;

const positive = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"\n${USAGE}`);
  return n;
};

export function parseOptions(argv: string[], sectionNames: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '100' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string', default: '' },
      users: { type: 'string', default: '10000' },
      'memory-holds': { type: 'string', default: '100000' },
      'memory-connections': { type: 'string', default: '200' },
      'rowlock-pool': { type: 'string', default: '10' },
      'webhook-orders': { type: 'string', default: '10000' },
      'scenario-duration': { type: 'string' },
      base: { type: 'string' },
      dashboards: { type: 'string', default: '1' },
      'drop-customers': { type: 'string', default: '2000' },
      'drop-stock': { type: 'string', default: '50' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`${USAGE}\nsections: ${sectionNames.join(', ')}`);
    process.exit(0);
  }
  const only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((s) => !sectionNames.includes(s));
  if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}; known: ${sectionNames.join(', ')}`);
  return {
    duration: positive('duration', values.duration),
    warmup: positive('warmup', values.warmup),
    connections: Math.round(positive('connections', values.connections)),
    runs: Math.round(positive('runs', values.runs)),
    only,
    users: Math.round(positive('users', values.users)),
    memoryHolds: Math.round(positive('memory-holds', values['memory-holds'])),
    memoryConnections: Math.round(positive('memory-connections', values['memory-connections'])),
    rowlockPool: Math.round(positive('rowlock-pool', values['rowlock-pool'])),
    webhookOrders: Math.round(positive('webhook-orders', values['webhook-orders'])),
    scenarioDuration: values['scenario-duration'] === undefined ? undefined : positive('scenario-duration', values['scenario-duration']),
    base: values.base,
    dashboards: values.dashboards === '0' ? 0 : Math.round(positive('dashboards', values.dashboards)),
    dropCustomers: Math.round(positive('drop-customers', values['drop-customers'])),
    dropStock: Math.round(positive('drop-stock', values['drop-stock'])),
  };
}
