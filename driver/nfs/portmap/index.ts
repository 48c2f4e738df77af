export * from './program.js';
export * from './getport.js';
