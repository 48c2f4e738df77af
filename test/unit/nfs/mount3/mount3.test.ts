import { describe, expect, it } from 'vitest';
import {
  EXPORT,
  MNT,
  MOUNT3_PROGRAM,
  MOUNT3_STATUSES,
  MOUNT_NULL,
  Mount3Status,
  UMNT,
  mount3StatusName,
} from '../../../../driver/nfs/mount3/index.js';
import { XdrError } from '../../../../driver/nfs/xdr/xdr-error.js';
import { decodeProcedureReply, encodeCall, fromHex, hex } from '../procedure-codec.js';
import { procedureSuite } from '../procedure-suite.js';
import { writeExports, writeMntRes, writeVoid } from '../reply-encoders.js';

const FH = new Uint8Array(32).map((_, i) => i * 7);

procedureSuite({
  procedure: MOUNT_NULL,
  args: [undefined],
  decodeArgs: () => undefined,
  replies: [undefined],
  encodeReply: writeVoid,
  fuzzCases: 500,
});

procedureSuite({
  procedure: MNT,
  args: ['/export', '/', '/ünïcødé/' + 'x'.repeat(1000)],
  decodeArgs: (r) => r.string(1024),
  replies: [
    { ok: true, value: { fhandle: FH, authFlavors: [1] } },
    { ok: true, value: { fhandle: new Uint8Array(64), authFlavors: [390003, 390004, 390005, 1, 0] } },
    { ok: true, value: { fhandle: new Uint8Array(0), authFlavors: [] } },
    { ok: false, status: Mount3Status.MNT3ERR_ACCES, value: undefined },
  ],
  encodeReply: writeMntRes,
});

procedureSuite({
  procedure: UMNT,
  args: ['/export'],
  decodeArgs: (r) => r.string(1024),
  replies: [undefined],
  encodeReply: writeVoid,
  fuzzCases: 500,
});

procedureSuite({
  procedure: EXPORT,
  args: [undefined],
  decodeArgs: () => undefined,
  replies: [
    [],
    [{ dir: '/', groups: [] }],
    [
      { dir: '/export', groups: ['*'] },
      { dir: '/srv/nfs', groups: ['10.0.0.0/8', 'host.example', '@netgroup'] },
    ],
  ],
  encodeReply: writeExports,
});

describe('MOUNT v3', () => {
  it('is program 100005 version 3 with the RFC procedure numbers', () => {
    expect(MOUNT3_PROGRAM).toMatchObject({ name: 'MOUNT', prog: 100005, vers: 3 });
    expect(MOUNT3_PROGRAM.statusName?.(13)).toBe('MNT3ERR_ACCES');
    expect([MOUNT_NULL, MNT, UMNT, EXPORT].map((p) => [p.name, p.proc])).toEqual([
      ['NULL', 0],
      ['MNT', 1],
      ['UMNT', 3],
      ['EXPORT', 5],
    ]);
  });

  it('encodes MNT dirpath byte for byte', () => {
    expect(hex(encodeCall(MNT, '/exp'))).toBe('000000042f657870');
    expect(hex(encodeCall(MNT, '/e'))).toBe('000000022f650000');
  });

  it('decodes a mountres3 byte for byte', () => {
    const bytes = fromHex('00000000 00000004 0a0b0c0d 00000002 00000001 00000000');
    expect(decodeProcedureReply(MNT, bytes)).toEqual({
      ok: true,
      value: { fhandle: new Uint8Array([10, 11, 12, 13]), authFlavors: [1, 0] },
    });
  });

  it('rejects a dirpath over 1024 bytes, a 65-byte fhandle and too many flavors', () => {
    expect(() => encodeCall(MNT, '/' + 'x'.repeat(1024))).toThrow(XdrError);
    expect(() =>
      decodeProcedureReply(MNT, fromHex('00000000 00000041' + '00'.repeat(68) + '00000000')),
    ).toThrow(XdrError);
    expect(() =>
      decodeProcedureReply(MNT, fromHex('00000000 00000000 00000021' + '00000001'.repeat(33))),
    ).toThrow(XdrError);
    expect(() => decodeProcedureReply(MNT, fromHex('00000000 00000000 ffffffff'))).toThrow(XdrError);
  });

  it('names mountstat3 codes', () => {
    expect(MOUNT3_STATUSES).toHaveLength(10);
    expect(mount3StatusName(13)).toBe('MNT3ERR_ACCES');
    expect(mount3StatusName(10006)).toBe('MNT3ERR_SERVERFAULT');
    expect(mount3StatusName(7)).toBe('MNT3ERR_UNKNOWN_7');
  });
});
