export * from './engine.js';
export * from './inspect.js';
export * from './volume-options.js';
