/*
 * RFC 1813 section 5.2.3:
 *   void MOUNTPROC3_UMNT(dirpath) = 3;
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { MNTPATHLEN } from './types.js';

export type UmntArgs = string;

function encodeArgs(w: XdrWriter, dirpath: UmntArgs): void {
  w.string(dirpath, MNTPATHLEN);
}

export const UMNT: Procedure<UmntArgs, void> = {
  name: 'UMNT',
  proc: 3,
  idempotent: true,
  encode: encodeArgs,
  decode() {},
};
