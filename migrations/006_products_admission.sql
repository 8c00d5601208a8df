-- How a product admits buyers: open (first come), a waiting room (queue) or a raffle. The raffle's seed
-- is fixed here before the close (its sha256 is published) and revealed by the draw.
ALTER TABLE products
  ADD COLUMN admission text NOT NULL DEFAULT 'open' CHECK (admission IN ('open', 'queue', 'raffle')),
  ADD COLUMN admission_window_s integer NOT NULL DEFAULT 120 CHECK (admission_window_s > 0),
  ADD COLUMN admission_headroom integer NOT NULL DEFAULT 0 CHECK (admission_headroom >= 0),
  ADD COLUMN raffle_closes_at timestamptz,
  ADD COLUMN raffle_seed text,
  ADD CONSTRAINT products_raffle_closes CHECK (admission <> 'raffle' OR raffle_closes_at IS NOT NULL);
