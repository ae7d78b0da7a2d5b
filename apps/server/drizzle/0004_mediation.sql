CREATE TABLE "mediation_agreement_term" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"agreement_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"text" text NOT NULL,
	"amount" numeric(14, 2),
	"deadline" date,
	"status" text DEFAULT 'pending' NOT NULL,
	"fulfilled_at" timestamp with time zone,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "dispute_event" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"dispute_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"actor_id" uuid,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispute_follow_up" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dispute_id" uuid NOT NULL,
	"agreement_id" uuid,
	"after_days" integer NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" uuid,
	"holds" boolean,
	"recurred" boolean,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "dispute_mediator" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dispute_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"body" text NOT NULL,
	"organisation" text,
	"status" text NOT NULL,
	"proposed_by" uuid,
	"proposed_at" timestamp with time zone NOT NULL,
	"responded_at" timestamp with time zone,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "dispute_party" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dispute_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"side" text NOT NULL,
	"name" text NOT NULL,
	"phone" text,
	"id_number" text,
	"address" text,
	"demand" text,
	"sort" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispute" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"incident_id" uuid,
	"status" text NOT NULL,
	"title" text NOT NULL,
	"description" text NOT NULL,
	"history" text,
	"address" text,
	"lon" double precision,
	"lat" double precision,
	"node_id" uuid,
	"grid_id" uuid,
	"station_id" uuid,
	"node_path" text NOT NULL,
	"risk_level" text DEFAULT 'low' NOT NULL,
	"risk_factors" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"risk_note" text,
	"officer_id" uuid,
	"registered_by" uuid,
	"registered_at" timestamp with time zone NOT NULL,
	"last_reviewed_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"outcome" text,
	"transferred_to" text,
	"close_note" text,
	"reopen_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "dispute_number_unique" UNIQUE("number")
);
--> statement-breakpoint
CREATE TABLE "mediation_agreement" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dispute_id" uuid NOT NULL,
	"status" text NOT NULL,
	"summary" text,
	"proposed_at" timestamp with time zone NOT NULL,
	"signed_at" timestamp with time zone,
	"recorded_by" uuid,
	"file" "bytea",
	"file_type" text,
	"file_name" text,
	"file_bytes" integer
);
--> statement-breakpoint
CREATE TABLE "mediation_session" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dispute_id" uuid NOT NULL,
	"held_at" timestamp with time zone NOT NULL,
	"place" text NOT NULL,
	"attendees" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"notes" text NOT NULL,
	"recorded_by" uuid,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mediation_setting" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"follow_up_days" jsonb NOT NULL,
	"review_interval_days" integer NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mediation_task" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dispute_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"assignee_id" uuid NOT NULL,
	"node_path" text NOT NULL,
	"title" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone,
	"note" text
);
--> statement-breakpoint
ALTER TABLE "mediation_agreement_term" ADD CONSTRAINT "mediation_agreement_term_agreement_id_mediation_agreement_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."mediation_agreement"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_event" ADD CONSTRAINT "dispute_event_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_event" ADD CONSTRAINT "dispute_event_actor_id_app_user_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_follow_up" ADD CONSTRAINT "dispute_follow_up_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_follow_up" ADD CONSTRAINT "dispute_follow_up_agreement_id_mediation_agreement_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."mediation_agreement"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_follow_up" ADD CONSTRAINT "dispute_follow_up_done_by_app_user_id_fk" FOREIGN KEY ("done_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_mediator" ADD CONSTRAINT "dispute_mediator_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_mediator" ADD CONSTRAINT "dispute_mediator_user_id_app_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_mediator" ADD CONSTRAINT "dispute_mediator_proposed_by_app_user_id_fk" FOREIGN KEY ("proposed_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_party" ADD CONSTRAINT "dispute_party_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_incident_id_incident_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incident"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_grid_id_jurisdiction_node_id_fk" FOREIGN KEY ("grid_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_station_id_jurisdiction_node_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_officer_id_app_user_id_fk" FOREIGN KEY ("officer_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_registered_by_app_user_id_fk" FOREIGN KEY ("registered_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_agreement" ADD CONSTRAINT "mediation_agreement_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_agreement" ADD CONSTRAINT "mediation_agreement_recorded_by_app_user_id_fk" FOREIGN KEY ("recorded_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_session" ADD CONSTRAINT "mediation_session_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_session" ADD CONSTRAINT "mediation_session_recorded_by_app_user_id_fk" FOREIGN KEY ("recorded_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_setting" ADD CONSTRAINT "mediation_setting_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_setting" ADD CONSTRAINT "mediation_setting_updated_by_app_user_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_task" ADD CONSTRAINT "mediation_task_dispute_id_dispute_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."dispute"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mediation_task" ADD CONSTRAINT "mediation_task_assignee_id_app_user_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mediation_term_agreement_idx" ON "mediation_agreement_term" USING btree ("agreement_id");--> statement-breakpoint
CREATE INDEX "dispute_event_dispute_idx" ON "dispute_event" USING btree ("dispute_id","seq");--> statement-breakpoint
CREATE INDEX "dispute_follow_up_due_idx" ON "dispute_follow_up" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "dispute_follow_up_dispute_idx" ON "dispute_follow_up" USING btree ("dispute_id");--> statement-breakpoint
CREATE INDEX "dispute_mediator_dispute_idx" ON "dispute_mediator" USING btree ("dispute_id");--> statement-breakpoint
CREATE INDEX "dispute_mediator_user_idx" ON "dispute_mediator" USING btree ("user_id","status");--> statement-breakpoint
CREATE INDEX "dispute_party_dispute_idx" ON "dispute_party" USING btree ("dispute_id");--> statement-breakpoint
CREATE INDEX "dispute_path_idx" ON "dispute" USING btree ("node_path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "dispute_status_idx" ON "dispute" USING btree ("status","registered_at");--> statement-breakpoint
CREATE INDEX "dispute_incident_idx" ON "dispute" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "mediation_agreement_dispute_idx" ON "mediation_agreement" USING btree ("dispute_id");--> statement-breakpoint
CREATE INDEX "mediation_session_dispute_idx" ON "mediation_session" USING btree ("dispute_id");--> statement-breakpoint
CREATE INDEX "mediation_task_assignee_idx" ON "mediation_task" USING btree ("assignee_id","status");