-- Decision 012: the event log's seq and the audit chain's link are assigned at commit by deferred
-- constraint triggers, so their head rows are locked only while the transaction commits. Writers
-- insert with a negative placeholder seq (from a sequence); the trigger replaces it. Rows inserted
-- with a real (positive) seq are left alone.
CREATE SEQUENCE "incident_event_pending";
--> statement-breakpoint
CREATE SEQUENCE "audit_pending";
--> statement-breakpoint
CREATE FUNCTION incident_event_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_seq bigint;
BEGIN
  UPDATE incident_event_head SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO next_seq;
  IF next_seq IS NULL THEN
    RAISE EXCEPTION 'incident_event_head is missing: the event cannot be numbered';
  END IF;
  UPDATE incident_event SET seq = next_seq WHERE seq = NEW.seq;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER incident_event_link AFTER INSERT ON incident_event
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION incident_event_link();
--> statement-breakpoint
-- The pending audit row carries in "hash" the canonical JSON of its fields between seq and the previous
-- hash (auditHashMiddle); the link computes the same sha256 as auditHash in chain.ts.
CREATE FUNCTION audit_chain_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head record;
BEGIN
  UPDATE audit_head SET seq = seq + 1, prev_hash = hash,
    hash = encode(sha256(convert_to('[' || (seq + 1)::text || ',' || NEW.hash || ',"' || hash || '"]', 'UTF8')), 'hex')
  WHERE id = 1 RETURNING seq, prev_hash, hash INTO head;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_head is missing: the audit record cannot be chained';
  END IF;
  UPDATE audit_log SET seq = head.seq, prev_hash = head.prev_hash, hash = head.hash WHERE seq = NEW.seq;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER audit_chain_link AFTER INSERT ON audit_log
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION audit_chain_link();
