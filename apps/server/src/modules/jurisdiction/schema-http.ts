import { z } from 'zod';
import { AreaGeometry, Crs, GridDuty, JurisdictionLevel } from '@pingan/contracts';
import { convert } from './geo/coords.js';

export const NodeIdParams = z.object({ id: z.string().uuid() });

const Lon = z.coerce.number().min(-180, 'must be ≥ -180').max(180, 'must be ≤ 180');
const Lat = z.coerce.number().min(-90, 'must be ≥ -90').max(90, 'must be ≤ 90');
/** Every API that takes coordinates names their system; WGS-84 is the default. */
export const PointQuery = z.object({ lon: Lon, lat: Lat, crs: Crs.default('WGS84') });

export const GeoJsonGeometry = z.object({ type: z.string(), coordinates: z.array(z.unknown()) }).nullable();

export const NodeSummary = z.object({
  id: z.string().uuid(),
  code: z.string(),
  name: z.string(),
  level: z.string(),
  core: z.boolean(),
  geometry: GeoJsonGeometry,
});
export const NodeDetail = NodeSummary.extend({
  parentId: z.string().uuid().nullable(),
  path: z.array(z.object({ id: z.string().uuid(), name: z.string(), level: z.string() })),
  children: z.array(NodeSummary),
});

const Code = z.string().trim().min(1, 'enter a code').max(40).regex(/^[0-9A-Za-z_-]+$/, 'may use letters, digits, dash and underscore');
const Name = z.string().trim().min(1, 'enter a name').max(80);

export const NodeInputBody = z.object({
  code: Code,
  name: Name,
  level: JurisdictionLevel,
  geometry: AreaGeometry,
  core: z.boolean().optional(),
});
export const CreateNodeBody = NodeInputBody.extend({ parentId: z.string().uuid(), crs: Crs.default('WGS84') });
export const UpdateNodeBody = z
  .object({ code: Code.optional(), name: Name.optional(), geometry: AreaGeometry.optional(), core: z.boolean().optional(), crs: Crs.default('WGS84') })
  .refine((b) => b.code !== undefined || b.name !== undefined || b.geometry !== undefined || b.core !== undefined, 'name at least one field to change');
export const MoveNodeBody = z.object({ parentId: z.string().uuid() });
export const SplitNodeBody = z.object({ parts: z.array(NodeInputBody).min(2, 'a split needs at least two parts').max(500), crs: Crs.default('WGS84') });
export const MergeNodesBody = z.object({ nodeIds: z.array(z.string().uuid()).min(2, 'name at least two nodes').max(100), code: Code, name: Name });

export const TeamMemberView = z.object({
  dutyId: z.string().uuid(),
  personId: z.string().uuid(),
  duty: GridDuty,
  name: z.string(),
  title: z.string().nullable(),
  phone: z.string().nullable(),
  phonePublic: z.boolean(),
  description: z.string().nullable(),
  hasPhoto: z.boolean(),
});
const Phone = z.string().trim().regex(/^[0-9+\-\s]{5,20}$/, 'must be a phone number of 5 to 20 digits');
export const AddMemberBody = z
  .object({
    duty: GridDuty,
    description: z.string().trim().max(200).optional(),
    personId: z.string().uuid().optional(),
    person: z
      .object({ name: Name, phone: Phone.optional(), phonePublic: z.boolean().optional(), title: z.string().trim().max(40).optional() })
      .optional(),
  })
  .refine((b) => !!b.personId !== !!b.person, 'give either personId (an existing person) or person (a new one)');
export const CardBody = z
  .object({ supervisionPhone: Phone.nullable().optional(), notice: z.string().trim().max(500).nullable().optional() })
  .refine((b) => b.supervisionPhone !== undefined || b.notice !== undefined, 'name at least one field to change');

export const PublicCardView = z.object({
  nodeId: z.string().uuid(),
  slug: z.string(),
  code: z.string(),
  name: z.string(),
  level: z.string(),
  station: z.object({ name: z.string(), code: z.string() }).nullable(),
  supervisionPhone: z.string().nullable(),
  notice: z.string().nullable(),
  members: z.array(
    z.object({
      personId: z.string().uuid(),
      duty: GridDuty,
      name: z.string(),
      title: z.string().nullable(),
      phone: z.string().nullable(),
      description: z.string().nullable(),
      photoUrl: z.string().nullable(),
    }),
  ),
});

export const ChainNode = z.object({ id: z.string().uuid(), code: z.string(), name: z.string(), level: z.string(), core: z.boolean() });

type Coords = unknown;
/** Convert every position of a geometry to WGS-84 (storage) from the system it came in. */
export function geometryToWgs84<G extends AreaGeometry>(g: G, crs: z.infer<typeof Crs>): G {
  if (crs === 'WGS84') return g;
  const walk = (c: Coords): Coords =>
    Array.isArray(c) && typeof c[0] === 'number'
      ? [...convert(c[0] as number, c[1] as number, crs, 'WGS84'), ...c.slice(2)]
      : (c as Coords[]).map(walk);
  return { ...g, coordinates: walk(g.coordinates) } as G;
}
/** Convert a stored WGS-84 geometry to another system for output. */
export function geometryFromWgs84<G extends { type: string; coordinates: unknown }>(g: G, crs: z.infer<typeof Crs>): G {
  if (crs === 'WGS84') return g;
  const walk = (c: Coords): Coords =>
    Array.isArray(c) && typeof c[0] === 'number'
      ? [...convert(c[0] as number, c[1] as number, 'WGS84', crs), ...c.slice(2)]
      : (c as Coords[]).map(walk);
  return { ...g, coordinates: walk(g.coordinates) } as G;
}
