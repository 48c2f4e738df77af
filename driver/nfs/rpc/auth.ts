import { XdrWriter } from '../xdr/xdr-writer.js';
import { ValidationError } from '../../common/errors.js';

/*
 * struct opaque_auth { auth_flavor flavor; opaque body<400>; };
 * struct authsys_parms {            (AUTH_SYS = 1, RFC 5531 appendix A)
 *   unsigned int stamp; string machinename<255>;
 *   unsigned int uid; unsigned int gid; unsigned int gids<16>;
 * };
 */

export const AUTH_NONE = 0;
export const AUTH_SYS = 1;

export interface OpaqueAuth {
  readonly flavor: number;
  readonly body: Uint8Array;
}

export const NO_AUTH: OpaqueAuth = { flavor: AUTH_NONE, body: new Uint8Array(0) };

export interface AuthSysOptions {
  /** @default 0 */
  readonly uid?: number;
  /** @default 0 */
  readonly gid?: number;
  /** Supplementary groups, at most 16. @default [] */
  readonly gids?: readonly number[];
  /** @default 'nfsvol' */
  readonly machineName?: string;
  /** @default seconds since the epoch */
  readonly stamp?: number;
}

function checkId(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new ValidationError(field, `must be an integer from 0 to 4294967295, got ${v}`);
  }
}

export function authSys(options: AuthSysOptions = {}): OpaqueAuth {
  const uid = options.uid ?? 0;
  const gid = options.gid ?? 0;
  const gids = options.gids ?? [];
  const machineName = options.machineName ?? 'nfsvol';
  checkId('uid', uid);
  checkId('gid', gid);
  if (gids.length > 16)
    throw new ValidationError('gids', `AUTH_SYS carries at most 16 groups, got ${gids.length}`);
  gids.forEach((g) => checkId('gids', g));
  if (Buffer.byteLength(machineName) > 255) throw new ValidationError('machineName', 'longer than 255 bytes');
  const w = new XdrWriter(64);
  w.u32((options.stamp ?? Math.floor(Date.now() / 1000)) >>> 0);
  w.string(machineName, 255);
  w.u32(uid);
  w.u32(gid);
  w.u32(gids.length);
  for (const g of gids) w.u32(g);
  return { flavor: AUTH_SYS, body: w.finish() };
}
