export { XdrReader } from './xdr-reader.js';
export { XdrWriter } from './xdr-writer.js';
export { XdrError } from './xdr-error.js';
