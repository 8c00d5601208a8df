import type { Section } from '../lib/types.js';
import { authSection } from './auth.js';
import { checkoutSection } from './checkout.js';
import { durabilitySection } from './durability.js';
import { floorSection } from './floor.js';
import { holdsSection } from './holds.js';
import { memorySection } from './memory.js';
import { queueSection } from './queue.js';
import { recoverySection } from './recovery.js';
import { rowLockSection } from './rowlock.js';
import { scenariosSection } from './scenarios.js';
import { soldOutSection } from './soldout.js';
import { spreadSection } from './spread.js';
import { versusSection } from './versus.js';

/** Every section, in the order they run. Add a new one here (see bench/README.md). */
export const SECTIONS: Section[] = [holdsSection, soldOutSection, floorSection, rowLockSection, memorySection, checkoutSection, scenariosSection, authSection, versusSection, queueSection, spreadSection, durabilitySection, recoverySection];
