import { describe, expectTypeOf, it } from 'vitest';
import type { ScenarioFile as ValidatedScenarioFile } from '../../loadtests/lib/scenario-config.js';
import type { HoldView, OrderView, ScenarioFile, StockBreakdown, TicketView } from '../../loadtests/steps/types.js';
import type { Hold as EngineHoldView, Order as EngineOrderView, Stock as EngineStockBreakdown, Ticket as EngineTicketView } from '../../src/contract.js';

/**
 * The scenario steps are plain JavaScript (k6 runs them too), so their shapes are JSDoc types; these
 * assertions, checked by `tsc`, keep them equal to the API contract's answers and to the schema the Node
 * runner validates scenarios.json with.
 */
describe('scenario step shapes', () => {
  it('are the engine answers', () => {
    expectTypeOf<HoldView>().toEqualTypeOf<EngineHoldView>();
    expectTypeOf<OrderView>().toEqualTypeOf<EngineOrderView>();
    expectTypeOf<StockBreakdown>().toEqualTypeOf<EngineStockBreakdown>();
    expectTypeOf<TicketView>().toEqualTypeOf<EngineTicketView>();
  });

  it('read what the scenario file schema validates', () => {
    expectTypeOf<ValidatedScenarioFile>().toExtend<ScenarioFile>();
  });
});
