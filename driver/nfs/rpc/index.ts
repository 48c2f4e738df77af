export * from './auth.js';
export * from './procedure.js';
export * from './record-marking.js';
export * from './rpc-connection.js';
export * from './rpc-error.js';
export * from './rpc-message.js';
