/*
 * RFC 1813 section 5.2.0:
 *   void MOUNTPROC3_NULL(void) = 0;
 */
import type { Procedure } from '../rpc/procedure.js';

export const MOUNT_NULL: Procedure<void, void> = {
  name: 'NULL',
  proc: 0,
  idempotent: true,
  encode() {},
  decode() {},
};
