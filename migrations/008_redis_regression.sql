-- Detecting a Redis that came back older than what Postgres has (docs/decisions/015).
-- `redis_mark`: the product's progress counter as Redis had it when Postgres last recorded it (the drain
-- and the sweep raise it, Redis first). A Redis record with a lower mark, or a seq below the ids Postgres
-- has seen, is older than Postgres: the engine rebuilds the product before serving it.
ALTER TABLE products ADD COLUMN redis_mark bigint NOT NULL DEFAULT 0;

-- An order record whose id Postgres already has with other facts (customer, product, quantity, creation
-- time): an id handed out twice. It is kept here, never merged into the existing row.
CREATE TABLE order_conflicts (
  order_id    text NOT NULL,
  product_id  text NOT NULL,
  user_id     text NOT NULL,
  created_at  timestamptz NOT NULL,
  -- the record as Redis had it (what the drain would have written)
  incoming    jsonb NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, user_id, created_at)
);
CREATE INDEX order_conflicts_product ON order_conflicts (product_id);
