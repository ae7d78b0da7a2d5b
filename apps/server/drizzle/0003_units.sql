CREATE TABLE "patrol_plan" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"node_id" uuid NOT NULL,
	"path" text NOT NULL,
	"zone_id" uuid,
	"unit_id" uuid,
	"checkpoints" jsonb NOT NULL,
	"schedule" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"ordered" boolean DEFAULT false NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patrol_run" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plan_id" uuid NOT NULL,
	"unit_id" uuid NOT NULL,
	"path" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"result" jsonb,
	"reached_count" integer,
	"created_by" uuid
);
--> statement-breakpoint
CREATE TABLE "patrol_zone" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"node_id" uuid NOT NULL,
	"path" text NOT NULL,
	"geom" geometry(MultiPolygon, 4326) NOT NULL,
	"retired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_station" (
	"unit_id" uuid PRIMARY KEY NOT NULL,
	"address" text,
	"phone" text,
	"lon" double precision NOT NULL,
	"lat" double precision NOT NULL,
	"functions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"staffing" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "unit_member" (
	"unit_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "unit_member_unit_id_user_id_pk" PRIMARY KEY("unit_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "unit_shift" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"unit_id" uuid NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"started_by" uuid,
	"ended_by" uuid,
	"member_ids" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "unit" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"call_sign" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"home_node_id" uuid NOT NULL,
	"path" text NOT NULL,
	"on_duty" boolean DEFAULT false NOT NULL,
	"duty_changed_at" timestamp with time zone,
	"notes" text,
	"retired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "patrol_plan" ADD CONSTRAINT "patrol_plan_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_plan" ADD CONSTRAINT "patrol_plan_zone_id_patrol_zone_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."patrol_zone"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_plan" ADD CONSTRAINT "patrol_plan_unit_id_unit_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."unit"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_run" ADD CONSTRAINT "patrol_run_plan_id_patrol_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."patrol_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_run" ADD CONSTRAINT "patrol_run_unit_id_unit_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."unit"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_run" ADD CONSTRAINT "patrol_run_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_zone" ADD CONSTRAINT "patrol_zone_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_station" ADD CONSTRAINT "service_station_unit_id_unit_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."unit"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_member" ADD CONSTRAINT "unit_member_unit_id_unit_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."unit"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_member" ADD CONSTRAINT "unit_member_user_id_app_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_shift" ADD CONSTRAINT "unit_shift_unit_id_unit_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."unit"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_shift" ADD CONSTRAINT "unit_shift_started_by_app_user_id_fk" FOREIGN KEY ("started_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_shift" ADD CONSTRAINT "unit_shift_ended_by_app_user_id_fk" FOREIGN KEY ("ended_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit" ADD CONSTRAINT "unit_home_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("home_node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "patrol_plan_path_idx" ON "patrol_plan" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "patrol_run_plan_idx" ON "patrol_run" USING btree ("plan_id","started_at");--> statement-breakpoint
CREATE INDEX "patrol_run_unit_idx" ON "patrol_run" USING btree ("unit_id","started_at");--> statement-breakpoint
CREATE INDEX "patrol_run_path_idx" ON "patrol_run" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "patrol_zone_path_idx" ON "patrol_zone" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "patrol_zone_geom_idx" ON "patrol_zone" USING gist ("geom");--> statement-breakpoint
CREATE INDEX "unit_member_user_idx" ON "unit_member" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "unit_shift_unit_idx" ON "unit_shift" USING btree ("unit_id","started_at");--> statement-breakpoint
CREATE INDEX "unit_path_idx" ON "unit" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "unit_home_idx" ON "unit" USING btree ("home_node_id");--> statement-breakpoint
-- Hand-written (Drizzle cannot declare partitioning): the position track, one partition per UTC day.
-- Partitions are created by the track writer for the days it sees (and today/tomorrow at start);
-- retention drops whole partitions. See docs/decisions/010-avl-ingestion.md.
CREATE TABLE "unit_position" (
	"unit_id" uuid NOT NULL,
	"t" timestamp with time zone NOT NULL,
	"lon" double precision NOT NULL,
	"lat" double precision NOT NULL,
	"accuracy" real,
	"speed" real,
	"heading" real,
	PRIMARY KEY ("unit_id", "t")
) PARTITION BY RANGE ("t");
