// What k6 hands the steps: HTTP on http.asyncRequest, HMAC and base64url on k6/crypto and k6/encoding,
// sleep on k6/timers, every load-phase outcome as metrics, and a StepContext per iteration.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { EngineApi, outcomeKey, REQUEST_TIMEOUT_MS } from '../../steps/api.js';
import { customerId, customerToken } from '../../steps/auth.js';
import { ordersSeen, rules } from './thresholds.js';

/**
 * @typedef {import('../../steps/types.js').Http} Http
 * @typedef {import('../../steps/types.js').Outcome} Outcome
 * @typedef {import('../../steps/types.js').StepContext} StepContext
 */

/** Every answer of the load phase by `name` and `outcome` (e.g. `409 insufficient_stock`). */
export const outcomes = new Counter('outcomes');
/** Answers a step did not expect (5xx, network errors, unknown codes). */
export const unexpectedResponses = new Counter('unexpected_responses');

/** @type {import('../../steps/types.js').Crypto} */
const k6Crypto = {
  hmacSha256: (secret, data, enc) => /** @type {string} */ (crypto.hmac('sha256', secret, data, enc === 'hex' ? 'hex' : 'base64rawurl')),
  base64url: (text) => encoding.b64encode(text, 'rawurl'),
};

/** @type {Map<string, ReturnType<typeof http.expectedStatuses>>} */
const callbacks = new Map();
/** `http_req_failed` counts what the step does not expect, not every 4xx. @param {readonly string[]} expect */
function responseCallback(expect) {
  const key = expect.join('|');
  let cb = callbacks.get(key);
  if (!cb) {
    cb = http.expectedStatuses(...[...new Set(expect.map((e) => Number(e.split(' ')[0])))]);
    callbacks.set(key, cb);
  }
  return cb;
}

/** @type {Http} */
async function k6Http(req) {
  const res = await http.asyncRequest(req.method, req.url, req.body ?? null, {
    headers: req.headers,
    tags: { name: req.name, phase: req.recorded ? 'load' : 'admin' },
    responseCallback: responseCallback(req.expect),
    timeout: REQUEST_TIMEOUT_MS,
  });
  /** @type {Record<string, string>} */
  const headers = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = v;
  const body = typeof res.body === 'string' ? res.body : '';
  return res.error ? { status: res.status, headers, body, ms: res.timings.duration, error: res.error } : { status: res.status, headers, body, ms: res.timings.duration };
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let warned = 0;
/** @param {Outcome} o */
function record(o) {
  const outcome = outcomeKey(o.status, o.code);
  outcomes.add(1, { name: o.name, outcome });
  if (!o.expected) {
    unexpectedResponses.add(1, { name: o.name, outcome });
    if (warned++ < 5) console.warn(`unexpected: ${o.name} -> ${outcome} ${String(o.detail).slice(0, 300)}`);
  }
}

/**
 * The engine for the load phase (recorded, tagged phase=load) and for setup/teardown (phase=admin).
 * @param {import('./config.js').Target} target
 */
export function engine(target) {
  const api = new EngineApi({ baseUrl: target.baseUrl, http: k6Http, crypto: k6Crypto, credentials: target, sleep, record });
  return { api, admin: api.unrecorded() };
}

/** @type {string | undefined} */
let token;

/**
 * This VU's step context for the current iteration; its customer's token is signed once per VU.
 * @param {import('./config.js').Settings<keyof import('./config.js').ScenarioDefs>} cfg
 * @param {EngineApi} api
 * @param {string} runId from setup()
 * @returns {StepContext}
 */
export function stepContext(cfg, api, runId) {
  token ??= customerToken(k6Crypto, cfg.target.jwtSecret, customerId(runId, exec.vu.idInTest), cfg.durationS + 3600);
  return { api, runId, vu: { id: exec.vu.idInTest, iter: exec.vu.iterationInScenario, token }, sleep, rules, orders: ordersSeen };
}
