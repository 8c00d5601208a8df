import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { SaleModel, type SaleParams } from './model.js';
import { Lab, Sale } from './sale.js';
import { steps, type Real } from './steps.js';

/**
 * Model-based random testing of the hold, order, payment and expiry scripts: random sequences of steps
 * on one product, on a private redis-server that is also crashed and restarted from its AOF, each step
 * checked against the model (test/model/model.ts). A failure is shrunk to a shortest sequence that still
 * fails, printed with the seed; MODEL_SEED (and MODEL_PATH, from the report) replay it.
 * `npm run test:model` runs many more sequences (MODEL_RUNS).
 */
const RUNS = Number(process.env.MODEL_RUNS ?? 100);
const SEED = Number(process.env.MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PATH = process.env.MODEL_PATH;
const MAX_STEPS = 40;

const saleParams: fc.Arbitrary<SaleParams> = fc.record({
  total: fc.integer({ min: 2, max: 8 }),
  limit: fc.option(fc.integer({ min: 2, max: 5 })),
  price: fc.constant(1000),
});

let lab: Lab;

beforeAll(async () => {
  lab = await Lab.start();
});
afterAll(async () => {
  await lab?.close();
});

describe('the Lua steps against a model', () => {
  it(`keep Redis equal to the model over ${RUNS} random sequences, through crashes`, { timeout: 60_000 + RUNS * 2_000 }, async () => {
    console.info(`model-based run: ${RUNS} sequences, seed ${SEED} (MODEL_SEED=${SEED} replays it)`);
    const property = fc.asyncProperty(saleParams, steps(MAX_STEPS), async (params, sequence) => {
      try {
        const sale = await Sale.open(lab, params);
        await fc.asyncModelRun(() => ({ model: new SaleModel(params), real: { sale, before: undefined } satisfies Real }), sequence);
      } catch (err) {
        // a connection error, rather than a divergence from the model, needs the client's recent past to be understood
        if (err instanceof Error) err.message += `\n(${lab.connectionHistory()})`;
        throw err;
      }
    });
    await fc.assert(property, { numRuns: RUNS, seed: SEED, path: PATH, endOnFailure: PATH !== undefined });
  });
});
