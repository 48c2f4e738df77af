import { describe, expect, it } from 'vitest';
import {
  CREATE,
  GETATTR,
  LOOKUP,
  READ,
  READDIRPLUS,
  SETATTR,
  StableHow,
  WRITE,
} from '../../../../driver/nfs/nfs3/index.js';
import { XdrWriter } from '../../../../driver/nfs/xdr/xdr-writer.js';
import { decodeProcedureReply, encodeCall, fromHex, hex } from '../procedure-codec.js';

// Bytes computed by hand from the RFC 1813 grammar (XDR: big-endian, 4-byte aligned, zero padding).

const FH5 = new Uint8Array([0xf1, 0xf2, 0xf3, 0xf4, 0xf5]);
const FH5_XDR = '00000005 f1f2f3f4 f5000000';

describe('NFSv3 arguments, byte for byte', () => {
  it('GETATTR3args: nfs_fh3 with its length and padding', () => {
    expect(hex(encodeCall(GETATTR, { object: FH5 }))).toBe(fromHexStr(FH5_XDR));
  });

  it('LOOKUP3args: diropargs3', () => {
    const bytes = encodeCall(LOOKUP, { dir: FH5, name: 'abcde' });
    expect(hex(bytes)).toBe(fromHexStr(`${FH5_XDR} 00000005 61626364 65000000`));
  });

  it('CREATE3args, EXCLUSIVE: createhow3 mode 2 then the 8-byte verifier', () => {
    const verf = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const bytes = encodeCall(CREATE, { where: { dir: FH5, name: 'lock' }, how: { mode: 'exclusive', verf } });
    expect(hex(bytes)).toBe(fromHexStr(`${FH5_XDR} 00000004 6c6f636b 00000002 01020304 05060708`));
  });

  it('CREATE3args, GUARDED: sattr3 with mode and server mtime', () => {
    const bytes = encodeCall(CREATE, {
      where: { dir: FH5, name: 'f' },
      how: { mode: 'guarded', attributes: { mode: 0o640, mtime: 'server' } },
    });
    // mode set (1, 0o640=0x1a0), uid/gid/size unset, atime DONT_CHANGE, mtime SET_TO_SERVER_TIME.
    const sattr = '00000001 000001a0 00000000 00000000 00000000 00000000 00000001';
    expect(hex(bytes)).toBe(fromHexStr(`${FH5_XDR} 00000001 66000000 00000001 ${sattr}`));
  });

  it('SETATTR3args: client times, size and guard', () => {
    const t = new Date(1_700_000_000_250); // 0x6553f100 s, 250 ms = 0x0ee6b280 ns
    const bytes = encodeCall(SETATTR, {
      object: FH5,
      attributes: { size: 2 ** 32 + 1, atime: t },
      guardCtime: t,
    });
    const sattr = '00000000 00000000 00000000 00000001 00000001 00000001 00000002 6553f100 0ee6b280 00000000';
    expect(hex(bytes)).toBe(fromHexStr(`${FH5_XDR} ${sattr} 00000001 6553f100 0ee6b280`));
  });

  it('READ3args: 64-bit offset', () => {
    const bytes = encodeCall(READ, { file: FH5, offset: 0x123456789an, count: 65536 });
    expect(hex(bytes)).toBe(fromHexStr(`${FH5_XDR} 00000012 3456789a 00010000`));
  });

  it('WRITE3args: count, stable_how, then the data by reference with padding', () => {
    const data = new Uint8Array([0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6]);
    const w = new XdrWriter();
    WRITE.encode(w, { file: FH5, offset: 8, stable: StableHow.DATA_SYNC, data });
    const chunks = w.finishChunks();
    // The payload is one of the chunks, the very same object: never copied.
    expect(chunks).toContain(data);
    const bytes = Buffer.concat(chunks);
    expect(hex(bytes)).toBe(
      fromHexStr(`${FH5_XDR} 00000000 00000008 00000006 00000001 00000006 d1d2d3d4 d5d60000`),
    );
  });

  it('READDIRPLUS3args', () => {
    const bytes = encodeCall(READDIRPLUS, {
      dir: FH5,
      cookie: 0xfffffffffffffffen,
      cookieverf: new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]),
      dircount: 4096,
      maxcount: 32768,
    });
    expect(hex(bytes)).toBe(fromHexStr(`${FH5_XDR} ffffffff fffffffe 09090909 09090909 00001000 00008000`));
  });
});

describe('NFSv3 replies, byte for byte', () => {
  it('GETATTR3res: fattr3 field order, mode masked to permission bits', () => {
    const fattr =
      '00000002 000041ed 00000002 000003e8 000003e9' + // NF3DIR, mode 040755, nlink, uid, gid
      ' 00000000 00001000 00000000 00002000' + // size 4096, used 8192
      ' 00000008 00000001' + // rdev
      ' 00000000 0000002a 00000001 00000000' + // fsid 42, fileid 2^32
      ' 6553f100 0ee6b280 6553f101 00000000 6553f102 3b9ac9ff'; // atime, mtime, ctime
    const res = decodeProcedureReply(GETATTR, fromHex(`00000000 ${fattr}`));
    expect(res).toEqual({
      ok: true,
      value: {
        objAttributes: {
          type: 'directory',
          mode: 0o755,
          nlink: 2,
          uid: 1000,
          gid: 1001,
          size: 4096,
          used: 8192,
          rdev: { major: 8, minor: 1 },
          fsid: 42n,
          fileid: 2n ** 32n,
          atime: new Date(1_700_000_000_250),
          mtime: new Date(1_700_000_001_000),
          ctime: new Date(1_700_000_002_999),
        },
      },
    });
  });

  it('LOOKUP3res failure keeps the status and the directory attributes arm', () => {
    expect(decodeProcedureReply(LOOKUP, fromHex('00000002 00000000'))).toEqual({
      ok: false,
      status: 2,
      value: { dirAttributes: undefined },
    });
  });
});

function fromHexStr(s: string): string {
  return s.replace(/\s+/g, '');
}
