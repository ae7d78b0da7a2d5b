import { sql } from 'drizzle-orm';
import { insertNodes } from '../../apps/server/src/demo/seed.js';
import { hashPassword } from '../../apps/server/src/platform/auth/service.js';
import type { Database } from '../../apps/server/src/platform/db/index.js';
import { rows } from '../../apps/server/src/platform/db/rows.js';
import { FIXTURE_NODES, FIXTURE_VALID_FROM } from '../../apps/server/src/testing/app.js';

/**
 * A small county for the faults suite, seeded in a second or two (the demo county takes 30–50 s):
 * the fixture tree, a county dispatcher, and patrol cars of 李鹊派出所 each worked by its own officer.
 * Short 1-3-5 targets at the county make timers fall due within a test.
 */
export const FAULTS_PASSWORD = 'faults-password-1';

export interface SeededUnit {
  id: string;
  callSign: string;
  officer: string;
}

export interface SeededCounty {
  countyId: string;
  stationId: string;
  dispatcher: string;
  units: SeededUnit[];
  /** A point inside 李鹊派出所's area (every intake of the load lands there). */
  place: { lon: number; lat: number };
}

export interface Targets {
  acknowledgeSeconds: number;
  arriveSeconds: number;
  warnShare: number;
}

export async function seedSmallCounty(database: Database, unitCount: number, targets: Targets): Promise<SeededCounty> {
  const passwordHash = await hashPassword(FAULTS_PASSWORD);
  return database.db.transaction(async (tx) => {
    const nodes = await insertNodes(tx, FIXTURE_NODES);
    await tx.execute(sql`insert into jurisdiction_node_version (node_id, code, name, level, parent_id, path, geom, valid_from, change)
      select id, code, name, level, parent_id, path, geom, ${FIXTURE_VALID_FROM}, 'create' from jurisdiction_node`);
    await tx.execute(sql`insert into grid_card (node_id, slug) select id, 'card' || code from jurisdiction_node where level = 'grid'`);
    const county = nodes.get('370523')!;
    const station = nodes.get('370523106')!;
    await tx.execute(sql`insert into app_user (username, display_name, password_hash, role, node_id)
      values ('dispatcher', '县局指挥员', ${passwordHash}, 'dispatcher', ${county.id})`);
    const units: SeededUnit[] = [];
    for (let i = 1; i <= unitCount; i++) {
      const callSign = `李鹊巡${String(i).padStart(2, '0')}`;
      const officer = `officer.${i}`;
      const [user] = await rows<{ id: string }>(
        tx,
        sql`insert into app_user (username, display_name, password_hash, role, node_id)
            values (${officer}, ${`${callSign}值班员`}, ${passwordHash}, 'community_officer', ${station.id}) returning id`,
      );
      const [unit] = await rows<{ id: string }>(
        tx,
        sql`insert into unit (call_sign, name, type, home_node_id, path, on_duty, duty_changed_at)
            values (${callSign}, ${`${callSign}巡逻车`}, 'patrol_car', ${station.id}, ${station.path}, true, now()) returning id`,
      );
      await tx.execute(sql`insert into unit_member (unit_id, user_id) values (${unit!.id}, ${user!.id})`);
      units.push({ id: unit!.id, callSign, officer });
    }
    await tx.execute(sql`insert into dispatch_target (node_id, acknowledge_seconds, arrive_core_seconds, arrive_other_seconds, diversion_accept_seconds, warn_share)
      values (${county.id}, ${targets.acknowledgeSeconds}, ${targets.arriveSeconds}, ${targets.arriveSeconds}, 900, ${targets.warnShare})`);
    return { countyId: county.id, stationId: station.id, dispatcher: 'dispatcher', units, place: { lon: 118.55, lat: 36.95 } };
  });
}
