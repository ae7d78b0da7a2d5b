import { z } from 'zod';
import { Crs } from '@pingan/contracts';

export const INCIDENT_SOURCES = ['phone_110', 'sms', 'app', 'walk_in', 'sensor', 'partner'] as const;
export const IncidentSource = z.enum(INCIDENT_SOURCES);

export const ASSIGNMENT_STATUSES = ['dispatched', 'acknowledged', 'en_route', 'on_scene', 'returning', 'cleared', 'unavailable', 'cancelled'] as const;
export const AssignmentStatus = z.enum(ASSIGNMENT_STATUSES);
export type AssignmentStatus = z.infer<typeof AssignmentStatus>;

/** Which status may follow which; skipping ahead is allowed (en route implies acknowledged). */
export const NEXT_STATUS: Record<AssignmentStatus, readonly AssignmentStatus[]> = {
  dispatched: ['acknowledged', 'en_route', 'on_scene', 'unavailable', 'cancelled'],
  acknowledged: ['en_route', 'on_scene', 'unavailable', 'cancelled'],
  en_route: ['on_scene', 'unavailable', 'cancelled'],
  on_scene: ['returning', 'cleared'],
  returning: ['cleared'],
  cleared: [],
  unavailable: [],
  cancelled: [],
};
export const ACTIVE_ASSIGNMENT: readonly AssignmentStatus[] = ['dispatched', 'acknowledged', 'en_route', 'on_scene', 'returning'];

export const INCIDENT_STATUSES = ['new', 'dispatched', 'on_scene', 'diverted', 'merged', 'closed'] as const;
export const SUPERVISION_LEVELS = ['normal', 'yellow', 'red'] as const;

export const DISPOSITIONS = ['handled', 'arrested', 'mediated', 'referred', 'false_alarm', 'no_trace', 'case_opened', 'other'] as const;

const Phone = z.string().trim().regex(/^[0-9+\-\s]{3,20}$/, 'must be a phone number (digits, +, - and spaces)');

export const IntakeBody = z
  .object({
    callerPhone: Phone.optional(),
    callerName: z.string().trim().max(40).optional(),
    content: z.string().trim().min(2, 'describe what happened').max(4000),
    source: IncidentSource.default('phone_110'),
    category: z.string().trim().min(1, 'choose a category').max(60),
    priority: z.number().int().min(1, 'priority is 1 (most urgent) to 4').max(4, 'priority is 1 (most urgent) to 4').default(3),
    location: z
      .object({ lon: z.number().min(-180).max(180), lat: z.number().min(-90).max(90), crs: Crs.default('WGS84') })
      .optional(),
    address: z.string().trim().min(2).max(200).optional(),
    receivedAt: z.coerce.date().optional(),
  })
  .refine((b) => b.location !== undefined || b.address !== undefined, { message: 'give a location (lon, lat) or an address', path: ['location'] });
export type IntakeBody = z.infer<typeof IntakeBody>;

export const DispatchBody = z.object({
  units: z
    .array(z.object({ unitId: z.string().uuid(), reason: z.string().trim().max(200).optional(), role: z.enum(['primary', 'support']).default('primary') }))
    .min(1, 'choose at least one unit')
    .max(30),
});

export const StatusBody = z.object({
  status: AssignmentStatus,
  lon: z.number().min(-180).max(180).optional(),
  lat: z.number().min(-90).max(90).optional(),
  crs: Crs.default('WGS84'),
  note: z.string().trim().max(500).optional(),
});

export const CloseBody = z.object({
  disposition: z.enum(DISPOSITIONS),
  result: z.string().trim().min(2, 'write a short result').max(2000),
});

export const MergeBody = z.object({ intoIncidentId: z.string().uuid() });
export const DivertBody = z.object({ departmentId: z.string().uuid(), note: z.string().trim().max(500).optional() });
export const DiversionReportBody = z.object({ report: z.string().trim().min(2, 'write what was done').max(2000) });
export const InstructionBody = z
  .object({ text: z.string().trim().min(1).max(1000).optional(), supervision: z.enum(SUPERVISION_LEVELS).optional() })
  .refine((b) => b.text !== undefined || b.supervision !== undefined, 'give an instruction text or a supervision level');

export const AUDIO_TYPES = ['audio/mpeg', 'audio/wav', 'audio/x-wav', 'audio/ogg', 'audio/webm', 'audio/amr', 'audio/mp4', 'audio/aac'];
export const AUDIO_MAX_BYTES = 10 * 1024 * 1024;

// ---- answers of the commands (what the routes send back, as OpenAPI documents them) ----------------

const Uuid = z.string().uuid();
const AssignmentCreated = z.object({ assignmentId: Uuid, unitId: Uuid });
export const DispatchAnswer = z.object({ incidentId: Uuid, assignments: z.array(AssignmentCreated) });
export const ReassignAnswer = DispatchAnswer.extend({ cancelled: Uuid });
export const MergeAnswer = z.object({ id: Uuid, mergedInto: Uuid, callsMoved: z.number().int() });
export const UnmergeAnswer = z.object({ id: Uuid, callsReturned: z.number().int() });
export const StatusAnswer = z.object({ assignmentId: Uuid, status: z.string(), incidentStatus: z.string() });
export const CloseAnswer = z.object({ id: Uuid, status: z.literal('closed') });
export const DivertAnswer = z.object({ diversionId: Uuid });
export const DiversionStepAnswer = z.object({ diversionId: Uuid, status: z.enum(['accepted', 'handled']) });
export const InstructionAnswer = z.object({ incidentId: Uuid, supervision: z.string().nullable() });
