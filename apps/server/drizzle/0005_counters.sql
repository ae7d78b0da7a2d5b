CREATE TABLE "audit_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_event_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_number_counter" (
	"prefix" text PRIMARY KEY NOT NULL,
	"last" integer NOT NULL
);
--> statement-breakpoint
-- Hand-written: start each head where the existing rows end (decision 012).
INSERT INTO "audit_head" ("id", "seq", "prev_hash", "hash")
SELECT 1, coalesce(max(seq), 0),
  coalesce((SELECT prev_hash FROM audit_log ORDER BY seq DESC LIMIT 1), repeat('0', 64)),
  coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), repeat('0', 64))
FROM audit_log;
--> statement-breakpoint
INSERT INTO "incident_event_head" ("id", "seq") SELECT 1, coalesce(max(seq), 0) FROM incident_event;
--> statement-breakpoint
INSERT INTO "incident_number_counter" ("prefix", "last")
SELECT regexp_replace(number, '[0-9]+$', ''), max((regexp_replace(number, '^.*-', ''))::int)
FROM incident WHERE number ~ '-[0-9]+$' GROUP BY 1;
