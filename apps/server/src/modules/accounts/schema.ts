import { z } from 'zod';
import { Role } from '@pingan/contracts';

export const UserView = z.object({
  id: z.string().uuid(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  nodeId: z.string().uuid(),
  nodeName: z.string(),
  /** Masked (138****1234) unless revealed by a role that needs it. */
  phone: z.string().nullable(),
  disabled: z.boolean(),
  locked: z.boolean(),
});
export type UserView = z.infer<typeof UserView>;

const Phone = z.string().regex(/^1\d{10}$/, 'must be an 11-digit mobile number starting with 1');

export const CreateUserBody = z.object({
  username: z
    .string()
    .trim()
    .min(3, 'must have at least 3 characters')
    .max(64)
    .regex(/^[a-z0-9._-]+$/, 'may use lower-case letters, digits, dot, dash and underscore only'),
  displayName: z.string().trim().min(1, 'enter the person\'s name').max(64),
  password: z.string().min(10, 'must have at least 10 characters').max(256),
  role: Role,
  nodeId: z.string().uuid(),
  phone: Phone.optional(),
});

export const UpdateUserBody = z
  .object({
    displayName: z.string().trim().min(1).max(64).optional(),
    role: Role.optional(),
    nodeId: z.string().uuid().optional(),
    phone: Phone.nullable().optional(),
    disabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const UserIdParams = z.object({ id: z.string().uuid() });
