/*
 * RFC 8881 section 18.16 (OPEN) and 18.16.2:
 *   struct open_owner4 { clientid4 clientid; opaque owner<NFS4_OPAQUE_LIMIT>; };
 *   union createhow4 switch (createmode4 mode) {
 *     case UNCHECKED4: case GUARDED4: fattr4 createattrs;
 *     case EXCLUSIVE4: verifier4 createverf;
 *     case EXCLUSIVE4_1: creatverfattr ch_createboth;   { verifier4 cva_verf; fattr4 cva_attrs; }
 *   };
 *   union openflag4 switch (opentype4 opentype) { case OPEN4_CREATE: createhow4 how; default: void; };
 *   union open_claim4 switch (open_claim_type4 claim) {
 *     case CLAIM_NULL: component4 file;  case CLAIM_FH: void;  ...
 *   };
 *   struct OPEN4args { seqid4 seqid; uint32_t share_access; uint32_t share_deny;
 *                      open_owner4 owner; openflag4 openhow; open_claim4 claim; };
 *   struct OPEN4resok { stateid4 stateid; change_info4 cinfo; uint32_t rflags;
 *                       bitmap4 attrset; open_delegation4 delegation; };
 *   union open_delegation4 switch (open_delegation_type4 delegation_type) {
 *     case OPEN_DELEGATE_NONE: void;
 *     case OPEN_DELEGATE_READ: open_read_delegation4 read;    { stateid4; bool recall; nfsace4 permissions; }
 *     case OPEN_DELEGATE_WRITE: open_write_delegation4 write; { stateid4; bool recall;
 *                                                              nfs_space_limit4 space_limit; nfsace4 permissions; }
 *     case OPEN_DELEGATE_NONE_EXT: open_none_delegation4 od_whynone;
 *   };
 *   struct nfsace4 { acetype4 type; aceflag4 flag; acemask4 access_mask; utf8str_mixed who; };
 *   union nfs_space_limit4 switch (limit_by4 limitby) {
 *     case NFS_LIMIT_SIZE: uint64_t filesize; case NFS_LIMIT_BLOCKS: nfs_modified_limit4 mod_blocks;
 *   };
 *   union open_none_delegation4 switch (why_no_delegation4 ond_why) {
 *     case WND4_CONTENTION: bool ond_server_will_push_deleg;
 *     case WND4_RESOURCE: bool ond_server_will_signal_avail;
 *     default: void;
 *   };
 * In NFSv4.1 the seqid is ignored (sessions order requests) and sent as 0.
 */
import { XdrError } from '../xdr/xdr-error.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { OP_OPEN, NFS4_OPAQUE_LIMIT } from './program.js';
import type { Op4 } from './op.js';
import { type SetAttrs4, writeFattr4 } from './attrs.js';
import {
  type ChangeInfo4,
  readBitmap,
  readChangeInfo,
  readStateid,
  type Stateid4,
  writeComponent,
  writeVerifier,
} from './structs.js';

export const OPEN4_SHARE_ACCESS_READ = 1;
export const OPEN4_SHARE_ACCESS_WRITE = 2;
export const OPEN4_SHARE_ACCESS_BOTH = 3;
/** This client has no callback channel, so it cannot be asked to return a delegation. */
export const OPEN4_SHARE_ACCESS_WANT_NO_DELEG = 0x0400;
export const OPEN4_SHARE_DENY_NONE = 0;

export type CreateHow4 =
  | { readonly mode: 'unchecked' | 'guarded'; readonly attrs: SetAttrs4 }
  | { readonly mode: 'exclusive4_1'; readonly verf: Uint8Array; readonly attrs: SetAttrs4 };

export interface OpenArgs {
  readonly shareAccess: number;
  readonly shareDeny: number;
  readonly owner: { readonly clientid: bigint; readonly owner: Uint8Array };
  /** Absent: open an existing file (OPEN4_NOCREATE). */
  readonly create?: CreateHow4;
  /** CLAIM_NULL with a name in the current (directory) filehandle, or CLAIM_FH on the file itself. */
  readonly claim: { readonly type: 'null'; readonly name: string } | { readonly type: 'fh' };
}

export type Delegation4 =
  | { readonly type: 'none' }
  | { readonly type: 'read' | 'write'; readonly stateid: Stateid4; readonly recall: boolean };

export interface OpenOk {
  readonly stateid: Stateid4;
  readonly cinfo: ChangeInfo4;
  readonly rflags: number;
  readonly attrset: number[];
  readonly delegation: Delegation4;
}

const CREATE_MODES = { unchecked: 0, guarded: 1, exclusive4_1: 3 } as const;

/** open_delegation_type4 */
const OPEN_DELEGATE_NONE = 0;
const OPEN_DELEGATE_READ = 1;
const OPEN_DELEGATE_WRITE = 2;
const OPEN_DELEGATE_NONE_EXT = 3;
/** limit_by4 */
const NFS_LIMIT_SIZE = 1;
const NFS_LIMIT_BLOCKS = 2;
/** why_no_delegation4: the two reasons whose arm carries a bool (the others are void). */
const WND4_CONTENTION = 1;
const WND4_RESOURCE = 2;

function skipAce(r: XdrReader): void {
  r.u32();
  r.u32();
  r.u32();
  r.opaque(NFS4_OPAQUE_LIMIT, 'nfsace4 who');
}

function readDelegation(r: XdrReader): Delegation4 {
  const type = r.u32();
  switch (type) {
    case OPEN_DELEGATE_NONE:
      return { type: 'none' };
    case OPEN_DELEGATE_READ: {
      const stateid = readStateid(r);
      const recall = r.bool();
      skipAce(r);
      return { type: 'read', stateid, recall };
    }
    case OPEN_DELEGATE_WRITE: {
      const stateid = readStateid(r);
      const recall = r.bool();
      const limitBy = r.u32();
      if (limitBy === NFS_LIMIT_SIZE) r.u64();
      else if (limitBy === NFS_LIMIT_BLOCKS) {
        r.u32();
        r.u32();
      } else throw new XdrError('XDR_BAD_VALUE', `bad limit_by4 ${limitBy}`);
      skipAce(r);
      return { type: 'write', stateid, recall };
    }
    case OPEN_DELEGATE_NONE_EXT: {
      const why = r.u32();
      if (why === WND4_CONTENTION || why === WND4_RESOURCE) r.bool();
      return { type: 'none' };
    }
    default:
      throw new XdrError('XDR_BAD_VALUE', `bad open_delegation_type4 ${type}`);
  }
}

export const OPEN: Op4<OpenArgs, OpenOk> = {
  name: 'OPEN',
  op: OP_OPEN,
  idempotent: false,
  encode: (w, a) => {
    w.u32(0);
    w.u32(a.shareAccess);
    w.u32(a.shareDeny);
    w.u64(a.owner.clientid);
    w.opaque(a.owner.owner, NFS4_OPAQUE_LIMIT);
    if (a.create === undefined) {
      w.u32(0); // OPEN4_NOCREATE
    } else {
      w.u32(1); // OPEN4_CREATE
      w.u32(CREATE_MODES[a.create.mode]);
      if (a.create.mode === 'exclusive4_1') writeVerifier(w, a.create.verf);
      writeFattr4(w, a.create.attrs);
    }
    if (a.claim.type === 'null') {
      w.u32(0); // CLAIM_NULL
      writeComponent(w, a.claim.name);
    } else {
      w.u32(4); // CLAIM_FH
    }
  },
  decodeOk: (r) => ({
    stateid: readStateid(r),
    cinfo: readChangeInfo(r),
    rflags: r.u32(),
    attrset: readBitmap(r),
    delegation: readDelegation(r),
  }),
};
