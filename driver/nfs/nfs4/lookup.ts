/*
 * RFC 8881 section 18.15: LOOKUP replaces the current filehandle (a directory) with that of
 * the named entry.
 *   struct LOOKUP4args { component4 objname; };  struct LOOKUP4res { nfsstat4 status; };
 */
import { OP_LOOKUP } from './program.js';
import { decodeNothing, type Op4 } from './op.js';
import { writeComponent } from './structs.js';

export const LOOKUP: Op4<string, undefined> = {
  name: 'LOOKUP',
  op: OP_LOOKUP,
  idempotent: true,
  encode: writeComponent,
  decodeOk: decodeNothing,
};
