export * from './roles.js';
export * from './auth.js';
export * from './errors.js';
export * from './jurisdiction.js';
