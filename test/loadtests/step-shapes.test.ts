import { describe, expectTypeOf, it } from 'vitest';
import type { ScenarioFile as ValidatedScenarioFile } from '../../loadtests/lib/scenario-config.js';
import type { HoldView, OrderView, ScenarioFile, StockBreakdown } from '../../loadtests/steps/types.js';
import type { HoldView as EngineHoldView } from '../../src/engine/holds.js';
import type { OrderView as EngineOrderView } from '../../src/engine/orders.js';
import type { StockBreakdown as EngineStockBreakdown } from '../../src/engine/products.js';

/**
 * The scenario steps are plain JavaScript (k6 runs them too), so their shapes are JSDoc types; these
 * assertions, checked by `tsc`, keep them equal to the engine's answers and to the schema the Node
 * runner validates scenarios.json with.
 */
describe('scenario step shapes', () => {
  it('are the engine answers', () => {
    expectTypeOf<HoldView>().toEqualTypeOf<EngineHoldView>();
    expectTypeOf<OrderView>().toEqualTypeOf<EngineOrderView>();
    expectTypeOf<StockBreakdown>().toEqualTypeOf<EngineStockBreakdown>();
  });

  it('read what the scenario file schema validates', () => {
    expectTypeOf<ValidatedScenarioFile>().toExtend<ScenarioFile>();
  });
});
