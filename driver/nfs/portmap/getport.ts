/*
 * RFC 1833 section 3.2 (portmap version 2):
 *   struct mapping { unsigned int prog; unsigned int vers; unsigned int prot; unsigned int port; };
 *   unsigned int PMAPPROC_GETPORT(mapping) = 3;
 * The port field of the argument is ignored; a reply of 0 means the program is not registered.
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';

export interface GetportArgs {
  readonly prog: number;
  readonly vers: number;
  readonly prot: number;
}

export const GETPORT: Procedure<GetportArgs, number> = {
  name: 'GETPORT',
  proc: 3,
  idempotent: true,
  encode(w: XdrWriter, a: GetportArgs): void {
    w.u32(a.prog).u32(a.vers).u32(a.prot).u32(0);
  },
  decode(r: XdrReader): number {
    return r.u32();
  },
};
