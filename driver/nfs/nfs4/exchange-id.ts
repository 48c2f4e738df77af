/*
 * RFC 8881 section 18.35: EXCHANGE_ID registers this client (by its owner string) and gets a
 * client id for CREATE_SESSION.
 *   struct client_owner4 { verifier4 co_verifier; opaque co_ownerid<NFS4_OPAQUE_LIMIT>; };
 *   union state_protect4_a switch (state_protect_how4 spa_how) {
 *     case SP4_NONE: void; case SP4_MACH_CRED: state_protect_ops4 spa_mach_ops;
 *     case SP4_SSV: ssv_sp_parms4 spa_ssv_parms;
 *   };
 *   struct nfs_impl_id4 { utf8str_cis nii_domain; utf8str_cs nii_name; nfstime4 nii_date; };
 *   struct EXCHANGE_ID4args { client_owner4 eia_clientowner; uint32_t eia_flags;
 *                             state_protect4_a eia_state_protect; nfs_impl_id4 eia_client_impl_id<1>; };
 *   struct server_owner4 { uint64_t so_minor_id; opaque so_major_id<NFS4_OPAQUE_LIMIT>; };
 *   union state_protect4_r switch (state_protect_how4 spr_how) {
 *     case SP4_NONE: void;
 *     case SP4_MACH_CRED: state_protect_ops4 spr_mach_ops;   { bitmap4 spo_must_enforce; bitmap4 spo_must_allow; }
 *     case SP4_SSV: ssv_prot_info4 spr_ssv_info;
 *   };
 *   struct EXCHANGE_ID4resok { clientid4 eir_clientid; sequenceid4 eir_sequenceid; uint32_t eir_flags;
 *                              state_protect4_r eir_state_protect; server_owner4 eir_server_owner;
 *                              opaque eir_server_scope<NFS4_OPAQUE_LIMIT>;
 *                              nfs_impl_id4 eir_server_impl_id<1>; };
 *   union EXCHANGE_ID4res switch (nfsstat4 eir_status) { case NFS4_OK: EXCHANGE_ID4resok eir_resok4; default: void; };
 * This client asks for SP4_NONE; it never asked for SSV, so an SSV answer is refused.
 */
import { XdrError } from '../xdr/xdr-error.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { OP_EXCHANGE_ID, NFS4_OPAQUE_LIMIT } from './program.js';
import type { Op4 } from './op.js';
import { readBitmap, writeVerifier } from './structs.js';

export const EXCHGID4_FLAG_SUPP_MOVED_REFER = 0x1;
export const EXCHGID4_FLAG_USE_NON_PNFS = 0x10000;
export const EXCHGID4_FLAG_CONFIRMED_R = 0x80000000;
/** state_protect_how4 */
const SP4_NONE = 0;
const SP4_MACH_CRED = 1;

export interface ImplId4 {
  readonly domain: string;
  readonly name: string;
  readonly date: { readonly seconds: bigint; readonly nseconds: number };
}

export interface ExchangeIdArgs {
  /** Changes each time the client starts: tells the server earlier state of this owner is gone. */
  readonly verifier: Uint8Array;
  readonly ownerId: Uint8Array;
  readonly flags: number;
  readonly implId?: ImplId4;
}

export interface ExchangeIdOk {
  readonly clientid: bigint;
  readonly sequenceid: number;
  readonly flags: number;
  readonly stateProtect: 'none' | 'mach_cred';
  readonly serverOwner: { readonly minorId: bigint; readonly majorId: Uint8Array };
  readonly serverScope: Uint8Array;
  readonly serverImplId: ImplId4 | undefined;
}

function readImplId(r: XdrReader): ImplId4 {
  return {
    domain: r.string(NFS4_OPAQUE_LIMIT, 'nii_domain'),
    name: r.string(NFS4_OPAQUE_LIMIT, 'nii_name'),
    date: { seconds: BigInt.asIntN(64, r.u64()), nseconds: r.u32() },
  };
}

export const EXCHANGE_ID: Op4<ExchangeIdArgs, ExchangeIdOk> = {
  name: 'EXCHANGE_ID',
  op: OP_EXCHANGE_ID,
  // The same owner and verifier give back the same client id.
  idempotent: true,
  encode: (w, a) => {
    writeVerifier(w, a.verifier);
    w.opaque(a.ownerId, NFS4_OPAQUE_LIMIT);
    w.u32(a.flags);
    w.u32(SP4_NONE);
    if (a.implId === undefined) {
      w.u32(0);
    } else {
      w.u32(1);
      w.string(a.implId.domain, NFS4_OPAQUE_LIMIT);
      w.string(a.implId.name, NFS4_OPAQUE_LIMIT);
      w.u64(BigInt.asUintN(64, a.implId.date.seconds));
      w.u32(a.implId.date.nseconds);
    }
  },
  decodeOk: (r) => {
    const clientid = r.u64();
    const sequenceid = r.u32();
    const flags = r.u32();
    const how = r.u32();
    let stateProtect: 'none' | 'mach_cred';
    if (how === SP4_NONE) stateProtect = 'none';
    else if (how === SP4_MACH_CRED) {
      readBitmap(r);
      readBitmap(r);
      stateProtect = 'mach_cred';
    } else {
      throw new XdrError('XDR_BAD_VALUE', `EXCHANGE_ID: state protection ${how} was not asked for`);
    }
    const serverOwner = { minorId: r.u64(), majorId: r.opaque(NFS4_OPAQUE_LIMIT, 'so_major_id') };
    const serverScope = r.opaque(NFS4_OPAQUE_LIMIT, 'eir_server_scope');
    const impl = r.array(1, 20, readImplId, 'eir_server_impl_id');
    return { clientid, sequenceid, flags, stateProtect, serverOwner, serverScope, serverImplId: impl[0] };
  },
};
