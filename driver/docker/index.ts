export * from './inspect.js';
export * from './volume-options.js';
