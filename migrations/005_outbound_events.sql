-- Outbound events (Standard Webhooks). Events are written by the persistence drain in the same
-- transaction as the order changes they describe, together with one delivery per subscribed
-- endpoint; delivery jobs then send them, and every attempt is kept.
CREATE TABLE webhook_endpoints (
  id          text PRIMARY KEY,
  url         text NOT NULL,
  events      text[] NOT NULL,
  description text,
  -- signs every delivery; shown to the admin once, when the endpoint is created
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  -- what the event is about (an order id; a product id and its stock for product.sold_out): an order
  -- reaches each status once, so (type, subject) also makes a retried drain's insert a no-op
  subject     text NOT NULL,
  -- the exact body every delivery sends and signs (text, not jsonb: the bytes must not change)
  payload     text NOT NULL,
  occurred_at timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (type, subject)
);

CREATE TABLE webhook_deliveries (
  id              text PRIMARY KEY,
  event_id        text NOT NULL REFERENCES webhook_events (id),
  endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  -- attempts ever made (numbers the attempts and the jobs), and those since the last (re)delivery
  -- started (the position in the retry schedule)
  attempts        integer NOT NULL DEFAULT 0,
  round_attempts  integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
  delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  at          timestamptz NOT NULL,
  status_code integer,
  error       text,
  duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
