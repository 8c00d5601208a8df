-- Orders and payment events, written by the persistence worker with idempotent upserts.
CREATE TABLE orders (
  id               text PRIMARY KEY,
  hold_id          text NOT NULL UNIQUE,
  user_id          text NOT NULL,
  product_id       text NOT NULL REFERENCES products (id),
  qty              integer NOT NULL CHECK (qty > 0),
  unit_price_minor bigint NOT NULL,
  total_minor      bigint NOT NULL,
  currency         char(3) NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending_payment', 'paid', 'payment_failed', 'expired', 'refund_required')),
  created_at       timestamptz NOT NULL,
  payment_due_at   timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  persisted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_product_status ON orders (product_id, status);

CREATE TABLE payment_events (
  event_id     text PRIMARY KEY,
  type         text NOT NULL,
  hold_id      text NOT NULL,
  order_id     text,
  amount_minor bigint NOT NULL,
  currency     char(3) NOT NULL,
  payload      jsonb NOT NULL,
  result       text NOT NULL,
  received_at  timestamptz NOT NULL,
  persisted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_events_hold ON payment_events (hold_id);

-- Order status only moves forward: pending -> failed/expired -> paid/refund_required (late payment).
CREATE FUNCTION order_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status WHEN 'pending_payment' THEN 0 WHEN 'payment_failed' THEN 1 WHEN 'expired' THEN 1 ELSE 2 END
$$;
