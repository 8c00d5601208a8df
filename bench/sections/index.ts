import type { Section } from '../lib/types.js';
import { holdsSection } from './holds.js';
import { memorySection } from './memory.js';
import { soldOutSection } from './soldout.js';

/** Every section, in the order they run. Add a new one here (see bench/README.md). */
export const SECTIONS: Section[] = [holdsSection, soldOutSection, memorySection];
