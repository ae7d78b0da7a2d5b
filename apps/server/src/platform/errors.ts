/** Errors a service raises on purpose; the HTTP layer maps each to its status and message. */
export class DomainError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new DomainError(404, 'not_found', `${what} was not found.`);
export const forbidden = (message = 'Your role or jurisdiction does not allow this.') =>
  new DomainError(403, 'forbidden', message);
export const unauthorized = (message = 'Log in first.') => new DomainError(401, 'unauthorized', message);
export const conflict = (message: string) => new DomainError(409, 'conflict', message);
export const invalid = (field: string, message: string) =>
  new DomainError(400, 'validation', `${field}: ${message}`, [{ field, message }]);
export const unprocessable = (message: string, issues?: { field: string; message: string }[]) =>
  new DomainError(422, 'unprocessable', message, issues);
