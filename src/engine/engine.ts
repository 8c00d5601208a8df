import type { EngineContext } from './context.js';
import { Holds } from './holds.js';
import { Products } from './products.js';
import { Sweep } from './sweep.js';

/** The engine's systems, sharing one context. */
export interface Engine {
  ctx: EngineContext;
  products: Products;
  holds: Holds;
  sweep: Sweep;
}

export function createEngine(ctx: EngineContext): Engine {
  const holds = new Holds(ctx);
  return { ctx, products: new Products(ctx), holds, sweep: new Sweep(ctx, holds) };
}
