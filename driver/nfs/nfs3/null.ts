/*
 * RFC 1813 section 3.3.0:
 *   void NFSPROC3_NULL(void) = 0;
 */
import type { Procedure } from '../rpc/procedure.js';

export const NULL: Procedure<void, void> = {
  name: 'NULL',
  proc: 0,
  idempotent: true,
  encode() {},
  decode() {},
};
