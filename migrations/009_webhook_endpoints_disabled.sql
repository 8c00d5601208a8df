-- An endpoint whose receiver answered 410 Gone (the Standard Webhooks specification: it wants no more
-- events) is disabled: no deliveries are made for it until an admin enables it again.
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at timestamptz, ADD COLUMN disabled_reason text;
