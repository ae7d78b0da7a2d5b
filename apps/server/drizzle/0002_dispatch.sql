CREATE TABLE "incident_assignment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"unit_id" uuid NOT NULL,
	"status" text NOT NULL,
	"role" text DEFAULT 'primary' NOT NULL,
	"reason" text,
	"dispatched_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"en_route_at" timestamp with time zone,
	"on_scene_at" timestamp with time zone,
	"cleared_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"history" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispatch_target" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"acknowledge_seconds" integer NOT NULL,
	"arrive_core_seconds" integer NOT NULL,
	"arrive_other_seconds" integer NOT NULL,
	"diversion_accept_seconds" integer DEFAULT 900 NOT NULL,
	"warn_share" double precision DEFAULT 0.8 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_diversion" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"department_id" uuid NOT NULL,
	"status" text NOT NULL,
	"note" text,
	"created_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"handled_at" timestamp with time zone,
	"report" text
);
--> statement-breakpoint
CREATE TABLE "incident_call" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"origin_incident_id" uuid NOT NULL,
	"caller_phone" text,
	"caller_name" text,
	"content" text NOT NULL,
	"source" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"audio" "bytea",
	"audio_type" text,
	"audio_bytes" integer
);
--> statement-breakpoint
CREATE TABLE "incident_category" (
	"code" text PRIMARY KEY NOT NULL,
	"parent_code" text,
	"name_zh" text NOT NULL,
	"name_en" text NOT NULL,
	"police" boolean DEFAULT true NOT NULL,
	"joint_forces_allowed" boolean DEFAULT false NOT NULL,
	"sort" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_event" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"incident_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"actor_id" uuid,
	"node_path" text NOT NULL,
	"unit_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_timer" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"assignment_id" uuid,
	"diversion_id" uuid,
	"kind" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"warn_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"warned_at" timestamp with time zone,
	"breached_at" timestamp with time zone,
	"met_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "incident" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"status" text NOT NULL,
	"category" text NOT NULL,
	"subcategory" text,
	"priority" integer NOT NULL,
	"source" text NOT NULL,
	"content" text NOT NULL,
	"address" text,
	"lon" double precision,
	"lat" double precision,
	"location" geometry(Point, 4326),
	"node_id" uuid,
	"station_id" uuid,
	"node_path" text NOT NULL,
	"core" boolean DEFAULT false NOT NULL,
	"supervision" text DEFAULT 'normal' NOT NULL,
	"merged_into" uuid,
	"disposition" text,
	"result" text,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "incident_number_unique" UNIQUE("number")
);
--> statement-breakpoint
CREATE TABLE "partner_department" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"node_id" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"categories" text[] DEFAULT '{}'::text[] NOT NULL,
	"phone" text
);
--> statement-breakpoint
CREATE TABLE "partner_member" (
	"user_id" uuid NOT NULL,
	"department_id" uuid NOT NULL,
	CONSTRAINT "partner_member_user_id_department_id_pk" PRIMARY KEY("user_id","department_id")
);
--> statement-breakpoint
CREATE TABLE "response_plan" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"node_id" uuid NOT NULL,
	"category" text NOT NULL,
	"max_priority" integer DEFAULT 4 NOT NULL,
	"requirements" jsonb NOT NULL,
	"name" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incident_assignment" ADD CONSTRAINT "incident_assignment_incident_id_incident_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incident"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispatch_target" ADD CONSTRAINT "dispatch_target_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_diversion" ADD CONSTRAINT "incident_diversion_incident_id_incident_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incident"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_diversion" ADD CONSTRAINT "incident_diversion_department_id_partner_department_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."partner_department"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_call" ADD CONSTRAINT "incident_call_incident_id_incident_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incident"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_timer" ADD CONSTRAINT "incident_timer_incident_id_incident_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incident"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident" ADD CONSTRAINT "incident_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident" ADD CONSTRAINT "incident_station_id_jurisdiction_node_id_fk" FOREIGN KEY ("station_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident" ADD CONSTRAINT "incident_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "partner_department" ADD CONSTRAINT "partner_department_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "partner_member" ADD CONSTRAINT "partner_member_user_id_app_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "partner_member" ADD CONSTRAINT "partner_member_department_id_partner_department_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."partner_department"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "response_plan" ADD CONSTRAINT "response_plan_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assignment_incident_idx" ON "incident_assignment" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "assignment_unit_idx" ON "incident_assignment" USING btree ("unit_id","status");--> statement-breakpoint
CREATE INDEX "diversion_department_idx" ON "incident_diversion" USING btree ("department_id","status");--> statement-breakpoint
CREATE INDEX "incident_call_incident_idx" ON "incident_call" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "incident_event_incident_idx" ON "incident_event" USING btree ("incident_id","seq");--> statement-breakpoint
CREATE INDEX "incident_timer_open_idx" ON "incident_timer" USING btree ("due_at") WHERE met_at is null and cancelled_at is null and breached_at is null;--> statement-breakpoint
CREATE INDEX "incident_path_idx" ON "incident" USING btree ("node_path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "incident_status_idx" ON "incident" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "incident_location_idx" ON "incident" USING gist ("location");--> statement-breakpoint
CREATE UNIQUE INDEX "partner_department_code_idx" ON "partner_department" USING btree ("node_id","code");--> statement-breakpoint
CREATE INDEX "response_plan_node_idx" ON "response_plan" USING btree ("node_id","category");--> statement-breakpoint
INSERT INTO "incident_category" ("code", "parent_code", "name_zh", "name_en", "police", "joint_forces_allowed", "sort") VALUES
  ('criminal', NULL, '刑事警情', 'Criminal', true, false, 10),
  ('criminal.theft', 'criminal', '盗窃', 'Theft', true, true, 11),
  ('criminal.robbery', 'criminal', '抢劫抢夺', 'Robbery', true, false, 12),
  ('criminal.fraud', 'criminal', '诈骗', 'Fraud', true, false, 13),
  ('criminal.assault', 'criminal', '故意伤害', 'Assault', true, false, 14),
  ('public_order', NULL, '治安警情', 'Public order', true, true, 20),
  ('public_order.fight', 'public_order', '打架斗殴', 'Fight / brawl', true, true, 21),
  ('public_order.noise', 'public_order', '噪音扰民', 'Noise', true, true, 22),
  ('public_order.gambling', 'public_order', '赌博', 'Gambling', true, false, 23),
  ('traffic', NULL, '交通警情', 'Traffic', true, false, 30),
  ('traffic.accident', 'traffic', '交通事故', 'Traffic accident', true, false, 31),
  ('traffic.congestion', 'traffic', '交通堵塞', 'Congestion', true, true, 32),
  ('fire_rescue', NULL, '火灾救援', 'Fire / rescue', true, false, 40),
  ('dispute', NULL, '纠纷', 'Dispute', true, true, 50),
  ('dispute.neighbour', 'dispute', '邻里纠纷', 'Neighbour dispute', true, true, 51),
  ('dispute.family', 'dispute', '家庭纠纷', 'Family dispute', true, false, 52),
  ('dispute.labour', 'dispute', '劳资纠纷', 'Labour dispute', true, false, 53),
  ('help', NULL, '群众求助', 'Help-seeking', true, true, 60),
  ('help.missing', 'help', '人员走失', 'Missing person', true, true, 61),
  ('help.lost_property', 'help', '物品遗失', 'Lost property', true, true, 62),
  ('non_police', NULL, '非警务警情', 'Non-police', false, false, 90),
  ('non_police.city_management', 'non_police', '城市管理', 'City management', false, false, 91),
  ('non_police.utilities', 'non_police', '水电气暖', 'Utilities', false, false, 92),
  ('non_police.social_aid', 'non_police', '社会救助', 'Social aid', false, false, 93);
