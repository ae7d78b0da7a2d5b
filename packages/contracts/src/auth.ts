import { z } from 'zod';
import { Role } from './roles.js';

export const LoginBody = z.object({
  username: z.string().trim().min(1, 'Enter your user name').max(64),
  password: z.string().min(1, 'Enter your password').max(256),
});
export type LoginBody = z.infer<typeof LoginBody>;

export const SessionUser = z.object({
  id: z.string().uuid(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  nodeId: z.string().uuid(),
  nodeName: z.string(),
  nodeLevel: z.string(),
});
export type SessionUser = z.infer<typeof SessionUser>;

/** Answer of POST /api/auth/login and GET /api/auth/me. */
export const SessionInfo = z.object({
  user: SessionUser,
  /** Send as header `x-csrf-token` on every non-GET request made with the session cookie. */
  csrfToken: z.string(),
  expiresAt: z.string(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const TicketBody = z.object({
  purpose: z.enum(['ws', 'terminal']),
  unitId: z.string().uuid().optional(),
});
export const TicketAnswer = z.object({ ticket: z.string(), expiresAt: z.string() });
