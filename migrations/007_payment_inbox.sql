-- The payments inbox: every verified payment event a provider delivers is written here before it is
-- applied in Redis and before the provider gets its 200, so an acknowledged payment survives a Redis
-- loss. `event_id` is unique across the engine (whatever the product): a second event with the same id
-- is a retry of the first or a conflict, never a second payment.
CREATE TABLE payment_inbox (
  event_id     text PRIMARY KEY,
  -- the `:provider` of the route (generic, stripe, adyen)
  provider     text NOT NULL,
  -- the engine event the provider's delivery was mapped to
  type         text NOT NULL,
  hold_id      text NOT NULL,
  order_id     text,
  amount_minor bigint NOT NULL,
  currency     text NOT NULL,
  -- the delivery as received (text, not jsonb: the signed bytes) and its signature header(s)
  raw_body     text NOT NULL,
  signatures   jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  -- what applying it did, as in payment_events (the drain writes both in one statement), or
  -- refund_required when its hold is gone from Redis and Postgres; NULL: not known to be applied yet
  result       text,
  settled_at   timestamptz
);
-- what recovery looks at: events not known to be applied, and deferred ones (whose hold may be lost)
CREATE INDEX payment_inbox_open ON payment_inbox (received_at) WHERE result IS NULL OR result = 'deferred';
CREATE INDEX payment_inbox_hold ON payment_inbox (hold_id);
