import { SCHEMA_VERSION, type NfsSettings, type VolumeRecord } from '../../driver/core/records.js';

/** NFS settings of a test cluster (nothing connects to them). */
export const TEST_NFS: NfsSettings = {
  version: '4.1',
  server: '127.0.0.1',
  port: 2049,
  exportPath: '/export',
  mountOptions: [],
};

/** A valid volume record, as `volume create` with no options writes it. */
export function volumeRecord(name: string, extra: Partial<VolumeRecord> = {}): VolumeRecord {
  return {
    schema: SCHEMA_VERSION,
    kind: 'volume',
    name,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'op',
    uid: 0,
    gid: 0,
    mode: 0o755,
    labels: {},
    onDelete: 'retain',
    ...extra,
  };
}
