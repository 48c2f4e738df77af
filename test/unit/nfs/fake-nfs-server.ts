/*
 * A scripted NFSv3 + MOUNT v3 server on loopback (one port for both programs), for testing how
 * NfsClient copes with a broken or hostile server: each test says what READ, READDIRPLUS and
 * GETATTR answer, or that the server goes silent. Everything else answers as a well-behaved
 * server of one export whose every name is a file.
 */
import type { Fattr3, ReaddirplusOk } from '../../../driver/nfs/nfs3/index.js';
import type { XdrWriter } from '../../../driver/nfs/xdr/index.js';
import { FakeRpcServer, type Action } from '../../support/fake-rpc-server.js';
import { fileAttr, fh } from './nfs3/fixtures.js';
import { writeFattr3, writePostOpAttr, writeReaddirplusOk } from './reply-encoders.js';

export interface ReadReply {
  readonly data: Uint8Array;
  readonly eof: boolean;
  /** The file size in the reply's post-op attributes; none are sent when absent. */
  readonly size?: number;
}

export interface FakeNfsScript {
  readonly readdirplus?: (args: {
    cookie: bigint;
    cookieverf: Uint8Array;
    maxcount: number;
  }) => ReaddirplusOk;
  readonly read?: (args: { offset: number; count: number }) => ReadReply;
  /** The size GETATTR and LOOKUP report for files. @default fileAttr's */
  readonly size?: number;
  /** Names that LOOKUP reports as directories (all others are files). */
  readonly dirs?: readonly string[];
  /** Procedures (NFS program) that get no answer at all. */
  readonly silent?: readonly number[];
}

export interface FakeNfs extends AsyncDisposable {
  readonly url: string;
  /** Every NFS procedure number received, in order. */
  readonly calls: number[];
}

const MOUNT = 100005;
const NFS = 100003;
export const PROC = {
  GETATTR: 1,
  LOOKUP: 3,
  READ: 6,
  REMOVE: 12,
  RMDIR: 13,
  READDIRPLUS: 17,
  FSINFO: 19,
} as const;

export async function startFakeNfs(script: FakeNfsScript): Promise<FakeNfs> {
  const calls: number[] = [];
  const attrs = (): Fattr3 => ({ ...fileAttr, size: script.size ?? fileAttr.size });
  const ok = (body: (w: XdrWriter) => void): Action => ({ reply: (w) => body(w.u32(0)) });
  const server = await FakeRpcServer.start((call): Action => {
    const r = call.args;
    if (call.prog === MOUNT) {
      if (call.proc === 1) return ok((w) => void w.opaque(fh(1)).u32(1).i32(1)); // MNT: root, AUTH_SYS
      return { reply: () => undefined }; // NULL, UMNT
    }
    if (call.prog !== NFS) return { hangUp: true };
    calls.push(call.proc);
    if (script.silent?.includes(call.proc)) return { silent: true };
    switch (call.proc) {
      case PROC.FSINFO:
        return ok((w) => {
          w.bool(false);
          w.u32(1 << 20)
            .u32(65536)
            .u32(4096); // rtmax, rtpref, rtmult
          w.u32(1 << 20)
            .u32(65536)
            .u32(4096); // wtmax, wtpref, wtmult
          w.u32(65536)
            .u64(2 ** 40)
            .u32(0)
            .u32(1)
            .u32(0x1b);
        });
      case PROC.GETATTR:
        return ok((w) => writeFattr3(w, attrs()));
      case PROC.LOOKUP: {
        r.opaque(64);
        const name = r.string(255);
        const dir = script.dirs?.includes(name) ?? false;
        return ok((w) => {
          w.opaque(fh(name.length + 2));
          writePostOpAttr(w, dir ? { ...attrs(), type: 'directory' } : attrs());
          w.bool(false);
        });
      }
      case PROC.READ: {
        r.opaque(64);
        const offset = r.u64n();
        const count = r.u32();
        const res = script.read?.({ offset, count }) ?? { data: new Uint8Array(0), eof: true, size: 0 };
        return ok((w) => {
          writePostOpAttr(w, res.size === undefined ? undefined : { ...attrs(), size: res.size });
          w.u32(res.data.length).bool(res.eof).opaque(res.data);
        });
      }
      case PROC.READDIRPLUS: {
        r.opaque(64);
        const cookie = r.u64();
        const cookieverf = r.fixedOpaque(8);
        r.u32();
        const maxcount = r.u32();
        const res = script.readdirplus?.({ cookie, cookieverf, maxcount }) ?? {
          cookieverf: new Uint8Array(8),
          entries: [],
          eof: true,
        };
        return ok((w) => writeReaddirplusOk(w, res));
      }
      case PROC.REMOVE:
      case PROC.RMDIR:
        return ok((w) => void w.bool(false).bool(false)); // wcc_data: no attributes
      default:
        return { silent: true };
    }
  });
  return {
    url: `nfs://127.0.0.1:${server.port}/export?mountport=${server.port}&reserved=0`,
    calls,
    [Symbol.asyncDispose]: () => server.close(),
  };
}
