import { z } from 'zod';

/** Every 4xx/5xx answer of the API has this shape. */
export const ApiError = z.object({
  error: z.string().describe('machine-readable code, e.g. validation, not_found, forbidden'),
  message: z.string().describe('what went wrong, in words a person can act on'),
  issues: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .describe('for validation errors: each field and its problem'),
});
export type ApiError = z.infer<typeof ApiError>;
