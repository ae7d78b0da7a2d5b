CREATE TABLE "grid_card" (
	"node_id" uuid PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"supervision_phone" text,
	"notice" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "grid_card_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "grid_duty" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"node_id" uuid NOT NULL,
	"person_id" uuid NOT NULL,
	"duty" text NOT NULL,
	"description" text,
	"sort" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grid_import" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"actor_id" uuid,
	"parent_id" uuid NOT NULL,
	"file_name" text NOT NULL,
	"status" text NOT NULL,
	"features" integer DEFAULT 0 NOT NULL,
	"report" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "jurisdiction_node_version" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"level" text NOT NULL,
	"parent_id" uuid,
	"path" text NOT NULL,
	"geom" geometry(MultiPolygon, 4326),
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_by" uuid
);
--> statement-breakpoint
CREATE TABLE "team_person" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"phone" text,
	"phone_public" boolean DEFAULT true NOT NULL,
	"title" text,
	"photo" "bytea",
	"photo_type" text,
	"user_id" uuid,
	"node_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "jurisdiction_node" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grid_card" ADD CONSTRAINT "grid_card_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grid_duty" ADD CONSTRAINT "grid_duty_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grid_duty" ADD CONSTRAINT "grid_duty_person_id_team_person_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."team_person"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grid_import" ADD CONSTRAINT "grid_import_actor_id_app_user_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grid_import" ADD CONSTRAINT "grid_import_parent_id_jurisdiction_node_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jurisdiction_node_version" ADD CONSTRAINT "jurisdiction_node_version_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jurisdiction_node_version" ADD CONSTRAINT "jurisdiction_node_version_changed_by_app_user_id_fk" FOREIGN KEY ("changed_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_person" ADD CONSTRAINT "team_person_user_id_app_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_person" ADD CONSTRAINT "team_person_node_id_jurisdiction_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."jurisdiction_node"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "grid_duty_node_idx" ON "grid_duty" USING btree ("node_id");--> statement-breakpoint
CREATE INDEX "grid_duty_person_idx" ON "grid_duty" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "jnv_node_idx" ON "jurisdiction_node_version" USING btree ("node_id","valid_from");--> statement-breakpoint
CREATE INDEX "jnv_geom_idx" ON "jurisdiction_node_version" USING gist ("geom");--> statement-breakpoint
CREATE INDEX "jnv_valid_idx" ON "jurisdiction_node_version" USING btree ("valid_from","valid_to");--> statement-breakpoint
CREATE INDEX "team_person_node_idx" ON "team_person" USING btree ("node_id");