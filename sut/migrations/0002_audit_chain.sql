-- Contract AUD-2: each audit record holds the hash of the one before it. Records
-- written before this migration keep a NULL prev_hash and stand outside the chain.
ALTER TABLE app.audit_log ADD COLUMN prev_hash TEXT;
