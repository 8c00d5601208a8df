-- The highest hold/order sequence number Redis had handed out for a product, as last seen by the sweep.
-- A Redis that lost its data starts new ids well above it, so no id is ever handed out twice.
ALTER TABLE products ADD COLUMN seq_high_water bigint NOT NULL DEFAULT 0;
