export * from './program.js';
export * from './status.js';
export * from './types.js';
export * from './null.js';
export * from './mnt.js';
export * from './umnt.js';
export * from './export.js';
