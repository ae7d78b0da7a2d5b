import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Role } from '@pingan/contracts';
import { assertCoversNode, assertCoversPath, coversPath, type Actor } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { AppContext } from '../../platform/context.js';
import type { Executor, Tx } from '../../platform/db/index.js';
import { jurisdictionNodes, users } from '../../platform/db/schema.js';
import { conflict, forbidden, notFound, unprocessable } from '../../platform/errors.js';
import { serviceStations, unitMembers, units, unitShifts } from './schema.js';
import { DUTY_ROLES, UNITS_CHANGED, canOperate, unitsRuntime } from './runtime.js';

export { canOperate };

export const UNIT_TYPES = [
  'patrol_car', 'foot_patrol', 'motorbike', 'bicycle', 'service_station', 'drone', 'guard_team', 'volunteer_team',
] as const;
export type UnitType = (typeof UNIT_TYPES)[number];

/** Roles by what they may do with units (routes name these). */
export const UNIT_ROLES = {
  /** See units, live positions, tracks, patrols, coverage and reach of their jurisdiction. */
  readers: ['admin', 'dispatcher', 'station_leader', 'community_officer', 'auxiliary', 'inspector'],
  /** Create, edit and retire units, zones and plans. */
  managers: ['admin', 'station_leader'],
  /** Put a unit of their jurisdiction on/off duty, get its terminal ticket, start and end patrol runs. */
  duty: DUTY_ROLES,
} as const satisfies Record<string, readonly Role[]>;

export interface StationInput {
  address?: string | undefined;
  phone?: string | undefined;
  lon: number;
  lat: number;
  functions: string[];
  staffing: { from: string; to: string; staff: number }[];
}

export interface UnitInput {
  callSign: string;
  name: string;
  type: UnitType;
  homeNodeId: string;
  memberIds: string[];
  notes?: string | undefined;
  station?: StationInput | undefined;
}

export type UnitPatch = Partial<Omit<UnitInput, 'type' | 'memberIds'>>;

async function loadUnit(tx: Executor, id: string) {
  const [u] = await tx.select().from(units).where(eq(units.id, id));
  if (!u || u.retiredAt) throw notFound('The unit');
  return u;
}

/** Members must be accounts inside the actor's jurisdiction. */
async function checkMembers(tx: Executor, actor: Actor, memberIds: string[]) {
  if (memberIds.length === 0) return;
  const rows = await tx
    .select({ id: users.id, path: jurisdictionNodes.path, disabled: users.disabled })
    .from(users)
    .innerJoin(jurisdictionNodes, eq(jurisdictionNodes.id, users.nodeId))
    .where(inArray(users.id, memberIds));
  const found = new Map(rows.map((r) => [r.id, r]));
  const issues = memberIds
    .map((id, i) => {
      const r = found.get(id);
      if (!r) return { field: `body.memberIds.${i}`, message: 'no such account' };
      if (!coversPath(actor, r.path)) return { field: `body.memberIds.${i}`, message: 'this account is outside your jurisdiction' };
      return null;
    })
    .filter((x) => x !== null);
  if (issues.length) throw unprocessable('Some members cannot be added to this unit.', issues);
}

export function createUnitService(ctx: AppContext) {
  const { database } = ctx;
  const runtime = unitsRuntime(ctx);

  const announce = async (ids: string[]) => {
    await runtime.refreshUnits(ids);
    await ctx.bus.publish(UNITS_CHANGED, { unitIds: ids });
  };

  async function replaceMembers(tx: Tx, unitId: string, memberIds: string[]) {
    await tx.delete(unitMembers).where(eq(unitMembers.unitId, unitId));
    const unique = [...new Set(memberIds)];
    if (unique.length) await tx.insert(unitMembers).values(unique.map((userId) => ({ unitId, userId })));
  }

  return {
    async create(tx: Tx, actor: Actor, input: UnitInput) {
      const path = await assertCoversNode(tx, actor, input.homeNodeId);
      if ((input.type === 'service_station') !== (input.station !== undefined)) {
        throw unprocessable(
          input.type === 'service_station' ? 'A service station needs its place (station.lon/lat, functions, staffing).' : 'Only a service station has station details.',
          [{ field: 'body.station', message: input.type === 'service_station' ? 'required for a service station' : 'only for a service station' }],
        );
      }
      await checkMembers(tx, actor, input.memberIds);
      const [u] = await tx
        .insert(units)
        .values({ callSign: input.callSign, name: input.name, type: input.type, homeNodeId: input.homeNodeId, path, notes: input.notes })
        .returning();
      await replaceMembers(tx, u!.id, input.memberIds);
      if (input.station) {
        const s = input.station;
        await tx.insert(serviceStations).values({ unitId: u!.id, address: s.address, phone: s.phone, lon: s.lon, lat: s.lat, functions: s.functions, staffing: s.staffing });
      }
      await appendAudit(tx, actor, { action: 'unit.create', entityType: 'unit', entityId: u!.id, nodePath: path, details: { callSign: input.callSign, type: input.type } });
      return u!.id;
    },

    async update(actor: Actor, id: string, patch: UnitPatch, memberIds?: string[]) {
      await database.db.transaction(async (tx) => {
        const u = await loadUnit(tx, id);
        assertCoversPath(actor, u.path);
        let path = u.path;
        if (patch.homeNodeId && patch.homeNodeId !== u.homeNodeId) path = await assertCoversNode(tx, actor, patch.homeNodeId);
        if (patch.station && u.type !== 'service_station') {
          throw unprocessable('Only a service station has station details.', [{ field: 'body.station', message: 'only for a service station' }]);
        }
        if (memberIds) {
          await checkMembers(tx, actor, memberIds);
          await replaceMembers(tx, id, memberIds);
        }
        await tx
          .update(units)
          .set({
            ...(patch.callSign !== undefined ? { callSign: patch.callSign } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.notes !== undefined ? { notes: patch.notes } : {}),
            ...(patch.homeNodeId !== undefined ? { homeNodeId: patch.homeNodeId, path } : {}),
            updatedAt: new Date(),
          })
          .where(eq(units.id, id));
        if (patch.station) {
          const s = patch.station;
          await tx
            .update(serviceStations)
            .set({ address: s.address ?? null, phone: s.phone ?? null, lon: s.lon, lat: s.lat, functions: s.functions, staffing: s.staffing })
            .where(eq(serviceStations.unitId, id));
        }
        await appendAudit(tx, actor, {
          action: 'unit.update',
          entityType: 'unit',
          entityId: id,
          nodePath: path,
          details: { fields: Object.keys(patch), ...(memberIds ? { members: memberIds.length } : {}) },
        });
      });
      await announce([id]);
      if (patch.station) {
        const info = await runtime.unit(id);
        if (info?.onDuty) runtime.placeFixed(info, patch.station.lon, patch.station.lat);
      }
    },

    async retire(actor: Actor, id: string) {
      await database.db.transaction(async (tx) => {
        const u = await loadUnit(tx, id);
        assertCoversPath(actor, u.path);
        if (u.onDuty) throw conflict('The unit is on duty: take it off duty before retiring it.');
        await tx.update(units).set({ retiredAt: new Date(), updatedAt: new Date() }).where(eq(units.id, id));
        await appendAudit(tx, actor, { action: 'unit.retire', entityType: 'unit', entityId: id, nodePath: u.path });
      });
      await announce([id]);
    },

    /** On or off duty: opens or closes a shift with timestamps; off duty stops tracking at once. */
    async setDuty(actor: Actor, id: string, onDuty: boolean) {
      const result = await database.db.transaction(async (tx) => {
        const u = await loadUnit(tx, id);
        const members = await tx.select({ userId: unitMembers.userId }).from(unitMembers).where(eq(unitMembers.unitId, id));
        if (!canOperate(actor, u, new Set(members.map((m) => m.userId)))) throw forbidden('Only a member of the unit or staff of its jurisdiction may change its duty.');
        const at = ctx.now();
        if (u.onDuty === onDuty) return { changed: false, at: u.dutyChangedAt ?? at, path: u.path };
        await tx.update(units).set({ onDuty, dutyChangedAt: at, updatedAt: at }).where(eq(units.id, id));
        if (onDuty) {
          await tx.insert(unitShifts).values({ unitId: id, startedAt: at, startedBy: actor.userId, memberIds: members.map((m) => m.userId) });
        } else {
          await tx
            .update(unitShifts)
            .set({ endedAt: at, endedBy: actor.userId })
            .where(and(eq(unitShifts.unitId, id), isNull(unitShifts.endedAt)));
        }
        await appendAudit(tx, actor, { action: onDuty ? 'unit.on_duty' : 'unit.off_duty', entityType: 'unit', entityId: id, nodePath: u.path });
        return { changed: true, at, path: u.path };
      });
      if (result.changed) {
        await announce([id]);
        if (onDuty) {
          const [st] = await database.db.select().from(serviceStations).where(eq(serviceStations.unitId, id));
          const info = await runtime.unit(id);
          if (st && info) runtime.placeFixed(info, st.lon, st.lat);
        }
      }
      return { onDuty, dutyChangedAt: result.at };
    },

    async memberSet(unitId: string): Promise<Set<string>> {
      const rows = await database.db.select({ userId: unitMembers.userId }).from(unitMembers).where(eq(unitMembers.unitId, unitId));
      return new Set(rows.map((r) => r.userId));
    },

    loadUnit: (id: string) => loadUnit(database.db, id),
  };
}
