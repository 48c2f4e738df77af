import { describe, expect, it } from 'vitest';
import {
  NFS3_STATUSES,
  Nfs3Status,
  nfs3StatusName,
  nfs3StatusRetriable,
} from '../../../../driver/nfs/nfs3/status.js';

describe('nfsstat3', () => {
  it('names every RFC 1813 code', () => {
    expect(NFS3_STATUSES).toHaveLength(29);
    expect(nfs3StatusName(0)).toBe('NFS3_OK');
    expect(nfs3StatusName(17)).toBe('NFS3ERR_EXIST');
    expect(nfs3StatusName(10008)).toBe('NFS3ERR_JUKEBOX');
    expect(Nfs3Status.NFS3ERR_NOTEMPTY).toBe(66);
  });

  it('has one entry per code and per name', () => {
    expect(new Set(NFS3_STATUSES.map((s) => s.code)).size).toBe(NFS3_STATUSES.length);
    expect(new Set(NFS3_STATUSES.map((s) => s.name)).size).toBe(NFS3_STATUSES.length);
  });

  it('names unknown codes by number', () => {
    expect(nfs3StatusName(12345)).toBe('NFS3ERR_UNKNOWN_12345');
    expect(nfs3StatusRetriable(12345)).toBe(false);
  });

  it('marks only JUKEBOX retriable', () => {
    expect(NFS3_STATUSES.filter((s) => s.retriable).map((s) => s.name)).toEqual(['NFS3ERR_JUKEBOX']);
    expect(nfs3StatusRetriable(Nfs3Status.NFS3ERR_JUKEBOX)).toBe(true);
  });
});
