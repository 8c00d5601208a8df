// Scenario settings for k6: the definitions from loadtests/scenarios.json (the same file the Node
// runner reads; their shapes are in loadtests/steps/types.js) plus the `-e` environment.

/**
 * @typedef {import('../../steps/types.js').ScenarioDefs} ScenarioDefs
 * @typedef {import('../../steps/types.js').ScenarioFile} ScenarioFile
 * @typedef {import('../../steps/types.js').ProductTemplate} ProductTemplate
 */

/**
 * The engine and its secrets.
 * @typedef {import('../../steps/types.js').Credentials & { baseUrl: string }} Target
 */

/**
 * @template {keyof ScenarioDefs} N
 * @typedef {object} Settings
 * @property {N} name
 * @property {ScenarioDefs[N]} def
 * @property {ProductTemplate} product
 * @property {Target} target
 * @property {number} vus
 * @property {number} durationS
 * @property {number} drainS seconds teardown waits for abandoned holds/orders to expire (0 = no wait)
 */

/** The engine's development defaults (src/config.ts DEV_SECRETS): a `npm start` engine works without -e. */
const DEV = {
  ADMIN_TOKEN: 'dev-admin-token-change-me',
  JWT_SECRET: 'dev-jwt-secret-change-me',
  WEBHOOK_SECRET: 'dev-webhook-secret-change-me',
};

/**
 * @param {string} name
 * @param {number} fallback
 */
function numberEnv(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`-e ${name} must be a non-negative number, got ${raw}`);
  return n;
}

/**
 * The settings of one scenario. `file` is `JSON.parse(open('../scenarios.json'))`, read by the script
 * itself (open() paths are relative to the script that is run).
 * @template {keyof ScenarioDefs} N
 * @param {ScenarioFile} file
 * @param {N} name
 * @returns {Settings<N>}
 */
export function settings(file, name) {
  const def = file.scenarios[name];
  return {
    name,
    def,
    product: file.product,
    target: {
      baseUrl: (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, ''),
      adminToken: __ENV.ADMIN_TOKEN || DEV.ADMIN_TOKEN,
      jwtSecret: __ENV.JWT_SECRET || DEV.JWT_SECRET,
      webhookSecret: __ENV.WEBHOOK_SECRET || DEV.WEBHOOK_SECRET,
    },
    vus: numberEnv('VUS', def.vus),
    durationS: numberEnv('DURATION', def.duration_s),
    drainS: numberEnv('DRAIN', 0),
  };
}

/** A short random id for a run (product ids, user ids, event ids). Call it in setup(): init code runs once per VU. */
export function runId() {
  return Math.random().toString(16).slice(2, 10).padEnd(8, '0');
}

/**
 * setup() of a scenario whose sale opens `opens_in_s` after the start: the steps' own setup for this
 * run, with the run's id and the time its load phase ends.
 * @template {'drop' | 'drop-queue'} N
 * @template S
 * @param {Settings<N>} cfg
 * @param {import('../../steps/api.js').EngineApi} admin
 * @param {(admin: import('../../steps/api.js').EngineApi, run: import('../../steps/types.js').RunInfo<N>) => Promise<S>} setupSteps
 * @returns {Promise<S & { runId: string, deadline: number }>}
 */
export async function setupOpening(cfg, admin, setupSteps) {
  if (cfg.durationS <= cfg.def.opens_in_s) throw new Error(`DURATION (${cfg.durationS}s) must be longer than the wait for the opening (${cfg.def.opens_in_s}s)`);
  const id = runId();
  const state = await setupSteps(admin, { ...cfg, runId: id });
  return { ...state, runId: id, deadline: Date.now() + cfg.durationS * 1000 };
}
