// The one Drizzle schema of the server: every module's tables, for drizzle-kit and for typed queries.
export * from './platform/db/schema.js';
export * from './modules/jurisdiction/schema.js';
export * from './modules/dispatch/schema.js';
export * from './modules/units/schema.js';
export * from './modules/mediation/schema.js';
