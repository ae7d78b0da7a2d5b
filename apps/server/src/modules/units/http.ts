import { z } from 'zod';
import { Crs } from '@pingan/contracts';
import { OUTCOMES } from './positions.js';
import { UNIT_TYPES } from './service.js';

export const IdParams = z.object({ id: z.string().uuid() });
const Lon = z.number().min(-180, 'must be ≥ -180').max(180, 'must be ≤ 180');
const Lat = z.number().min(-90, 'must be ≥ -90').max(90, 'must be ≤ 90');
const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');
const Name = z.string().trim().min(1, 'enter a name').max(80);

export const StationBody = z.object({
  address: z.string().trim().max(200).optional(),
  phone: z.string().trim().regex(/^[0-9+\-\s]{5,20}$/, 'must be a phone number').optional(),
  lon: Lon,
  lat: Lat,
  crs: Crs.default('WGS84'),
  functions: z.array(z.string().trim().min(1).max(40)).max(30).default([]),
  staffing: z.array(z.object({ from: HHMM, to: HHMM, staff: z.number().int().min(0).max(500) })).max(48).default([]),
});

export const CreateUnitBody = z.object({
  callSign: z.string().trim().min(1, 'enter a call sign').max(40),
  name: Name,
  type: z.enum(UNIT_TYPES),
  homeNodeId: z.string().uuid(),
  memberIds: z.array(z.string().uuid()).max(200).default([]),
  notes: z.string().max(1000).optional(),
  station: StationBody.optional(),
});

export const UpdateUnitBody = z
  .object({
    callSign: z.string().trim().min(1).max(40).optional(),
    name: Name.optional(),
    homeNodeId: z.string().uuid().optional(),
    memberIds: z.array(z.string().uuid()).max(200).optional(),
    notes: z.string().max(1000).optional(),
    station: StationBody.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'name at least one field to change');

export const LiveView = z.object({
  unitId: z.string(),
  callSign: z.string(),
  type: z.string(),
  t: z.string(),
  lon: z.number(),
  lat: z.number(),
  accuracy: z.number().nullable(),
  speed: z.number().nullable(),
  heading: z.number().nullable(),
  stale: z.boolean(),
  ageSeconds: z.number(),
});

export const UnitView = z.object({
  id: z.string().uuid(),
  callSign: z.string(),
  name: z.string(),
  type: z.string(),
  homeNodeId: z.string().uuid(),
  onDuty: z.boolean(),
  dutyChangedAt: z.string().nullable(),
  notes: z.string().nullable(),
  members: z.array(z.object({ id: z.string().uuid(), displayName: z.string(), role: z.string() })),
  station: z
    .object({
      address: z.string().nullable(),
      phone: z.string().nullable(),
      lon: z.number(),
      lat: z.number(),
      functions: z.array(z.string()),
      staffing: z.array(z.object({ from: z.string(), to: z.string(), staff: z.number() })),
      /** Staff on duty now by the staffing table (local time). */
      staffNow: z.number(),
    })
    .nullable(),
  currentShift: z.object({ id: z.string().uuid(), startedAt: z.string(), memberIds: z.array(z.string()) }).nullable(),
  live: LiveView.nullable(),
});

export const PositionPoint = z.object({
  /** ISO 8601 time or epoch milliseconds. */
  t: z.union([z.string().max(40), z.number()]),
  lon: z.number(),
  lat: z.number(),
  accuracy: z.number().min(0).nullable().optional(),
  speed: z.number().min(0).nullable().optional(),
  heading: z.number().nullable().optional(),
  unitId: z.string().uuid().optional(),
});
export const PositionsBody = z.object({
  unitId: z.string().uuid().optional(),
  crs: Crs.default('WGS84'),
  points: z.array(PositionPoint).min(1, 'send at least one point').max(5000, 'send at most 5,000 points per batch'),
});
export const PositionsAnswer = z.object({
  received: z.number(),
  stored: z.number(),
  counts: z.object(Object.fromEntries(OUTCOMES.map((o) => [o, z.number()])) as Record<(typeof OUTCOMES)[number], z.ZodNumber>),
  serverTime: z.string(),
});

export const TrackQuery = z.object({
  from: z.string().datetime({ offset: true }),
  to: z.string().datetime({ offset: true }),
  maxPoints: z.coerce.number().int().min(2).max(50_000).default(5000),
  crs: Crs.default('WGS84'),
});

export const Shares = z.record(z.string(), z.number());
export const ReachBody = z.object({
  nodeId: z.string().uuid(),
  /** Units to reach from: a service station from its place, any other unit from its live position. */
  unitIds: z.array(z.string().uuid()).max(500).default([]),
  /** Add every on-duty unit of the node with a fresh position. */
  liveUnits: z.boolean().default(false),
  /** Extra points (e.g. a planned station). */
  points: z.array(z.object({ lon: Lon, lat: Lat })).max(500).default([]),
  crs: Crs.default('WGS84'),
  minutes: z.array(z.number().positive().max(60)).min(1).max(6).default([1, 3, 5]),
  speedKmh: z.number().positive().max(200).optional(),
});
export const ReachAnswer = z.object({
  model: z.string(),
  speedKmh: z.number(),
  radiiM: Shares,
  sources: z.array(z.object({ unitId: z.string().nullable(), callSign: z.string().nullable(), lon: z.number(), lat: z.number() })),
  grids: z.array(z.object({ id: z.string(), code: z.string(), name: z.string(), core: z.boolean(), areaKm2: z.number(), shares: Shares })),
  core: z.object({ areaKm2: z.number(), shares: Shares }),
  all: z.object({ areaKm2: z.number(), shares: Shares }),
});
