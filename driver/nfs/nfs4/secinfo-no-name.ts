/*
 * RFC 8881 section 18.45: the security flavors the server accepts for the current filehandle
 * (style 0) or its parent (style 1). It consumes the current filehandle.
 *   enum secinfo_style4 { SECINFO_STYLE4_CURRENT_FH = 0, SECINFO_STYLE4_PARENT = 1 };
 *   typedef secinfo_style4 SECINFO_NO_NAME4args;
 *   union secinfo4 switch (uint32_t flavor) { case RPCSEC_GSS: rpcsec_gss_info flavor_info; default: void; };
 *   struct rpcsec_gss_info { sec_oid4 oid; qop4 qop; rpc_gss_svc_t service; };
 *   typedef secinfo4 SECINFO4resok<>;
 *   union SECINFO_NO_NAME4res switch (nfsstat4 status) { case NFS4_OK: SECINFO4resok resok4; default: void; };
 */
import { OP_SECINFO_NO_NAME, NFS4_OPAQUE_LIMIT } from './program.js';
import type { Op4 } from './op.js';

export const RPCSEC_GSS = 6;

export interface SecInfo4 {
  readonly flavor: number;
  /** RPCSEC_GSS only. */
  readonly gss?: { readonly oid: Uint8Array; readonly qop: number; readonly service: number };
}

export const SECINFO_NO_NAME: Op4<0 | 1, SecInfo4[]> = {
  name: 'SECINFO_NO_NAME',
  op: OP_SECINFO_NO_NAME,
  idempotent: true,
  encode: (w, style) => void w.u32(style),
  decodeOk: (r) =>
    r.array(
      64,
      4,
      (x) => {
        const flavor = x.u32();
        if (flavor !== RPCSEC_GSS) return { flavor };
        return {
          flavor,
          gss: { oid: x.opaque(NFS4_OPAQUE_LIMIT, 'sec_oid4'), qop: x.u32(), service: x.u32() },
        };
      },
      'SECINFO4resok',
    ),
};
