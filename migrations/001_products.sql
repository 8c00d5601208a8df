-- Products: the system of record for what is on sale. Redis holds the live counters.
CREATE TABLE products (
  id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name             text NOT NULL,
  unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
  currency         char(3) NOT NULL,
  stock            integer NOT NULL CHECK (stock >= 0),
  sale_starts_at   timestamptz,
  sale_ends_at     timestamptz,
  per_user_limit   integer CHECK (per_user_limit > 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (sale_ends_at IS NULL OR sale_starts_at IS NULL OR sale_ends_at > sale_starts_at)
);
