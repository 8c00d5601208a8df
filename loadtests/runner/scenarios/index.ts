import type { ScenarioName } from '../../lib/scenario-config.js';
import type { Scenario } from '../context.js';
import { checkout } from './checkout.js';
import { drop } from './drop.js';
import { dropQueue } from './drop-queue.js';
import { soak } from './soak.js';
import { stampede } from './stampede.js';
import { webhookStorm } from './webhook-storm.js';

/** Every scenario by name (each keeps its own state type, hence `any` here). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SCENARIOS: { [N in ScenarioName]: Scenario<N, any> } = {
  stampede,
  checkout,
  'webhook-storm': webhookStorm,
  soak,
  drop,
  'drop-queue': dropQueue,
};
