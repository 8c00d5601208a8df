import type { ErrorCode } from '../errors.js';

/**
 * What the engine reports as it decides, for metrics. Called on the hold path, once per request:
 * implementations keep their series as handles rather than looking them up.
 */
export interface EngineObserver {
  /** a new hold was placed (not a replay) */
  holdPlaced(): void;
  /** a hold request was refused, in Redis or by the sold-out shortcut */
  holdRefused(code: ErrorCode): void;
}

export const NO_OBSERVER: EngineObserver = { holdPlaced() {}, holdRefused() {} };
