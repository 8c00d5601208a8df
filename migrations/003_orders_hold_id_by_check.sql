-- An order's id is derived from its hold's id (o_<seq>_<product> for h_<seq>_<product>), so the
-- primary key already makes hold_id unique. A second unique index made concurrent upserts of one
-- order fail on hold_id instead of resolving through ON CONFLICT (id); a check keeps the 1:1 rule.
ALTER TABLE orders DROP CONSTRAINT orders_hold_id_key;
ALTER TABLE orders ADD CONSTRAINT orders_id_matches_hold CHECK (id = 'o' || substr(hold_id, 2));
CREATE INDEX orders_hold_id ON orders (hold_id);
