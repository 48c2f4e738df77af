import { describe, expect, it } from 'vitest';
import {
  DockerOutputError,
  driftOf,
  isManagedBy,
  parseVolumeInspect,
  parseVolumeLs,
} from '../../../driver/attach/docker/inspect.js';
import { dockerVolumeCreateArgv, dockerVolumeOptions } from '../../../driver/attach/docker/volume-options.js';
import { exportMountArgv, hostMountArgv, type MountTarget } from '../../../driver/attach/mount-argv.js';
import { parseMountOptions, validateMountPath } from '../../../driver/core/mount-options.js';
import { ValidationError } from '../../../driver/common/errors.js';
import type { NfsSettings } from '../../../driver/core/records.js';

const v41: NfsSettings = {
  version: '4.1',
  server: '127.0.0.1',
  port: 12049,
  exportPath: '/export',
  mountOptions: [],
};
const v3: NfsSettings = {
  version: '3',
  server: '127.0.0.1',
  port: 2049,
  mountPort: 20048,
  exportPath: '/export/',
  mountOptions: ['hard', 'timeo=600'],
};
const t41: MountTarget = { nfs: v41, address: '10.0.2.2' };
const t3: MountTarget = { nfs: v3, address: '10.0.2.2' };

describe('docker volume create argv', () => {
  it('NFSv4.1: type nfs4, addr/port/vers, device :/export/NAME, managed labels, name last', () => {
    expect(dockerVolumeCreateArgv(t41, 'pgdata', 'c1')).toEqual([
      'docker',
      'volume',
      'create',
      '--driver',
      'local',
      '--opt',
      'type=nfs4',
      '--opt',
      'o=addr=10.0.2.2,port=12049,vers=4.1',
      '--opt',
      'device=:/export/pgdata',
      '--label',
      'nfsvol.managed=true',
      '--label',
      'nfsvol.cluster=c1',
      'pgdata',
    ]);
  });

  it('NFSv3: type nfs, mountport and nolock, then user options; trailing slash of the export dropped', () => {
    expect(dockerVolumeOptions(t3, 'v')).toEqual({
      type: 'nfs',
      o: 'addr=10.0.2.2,port=2049,vers=3,proto=tcp,mountport=20048,mountproto=tcp,nolock,hard,timeo=600',
      device: ':/export/v',
    });
  });

  it('leaves out port when the cluster has none, and nolock when the user chose lock', () => {
    const { port: _p, ...noPort } = v3;
    expect(
      dockerVolumeOptions({ nfs: { ...noPort, mountOptions: ['lock'] }, address: 'nfs' }, 'v')['o'],
    ).toBe('addr=nfs,vers=3,proto=tcp,mountport=20048,mountproto=tcp,lock');
  });

  it('host mounts use the address in the source, not in -o', () => {
    expect(hostMountArgv(t41, 'v', '/mnt/v')).toEqual([
      'mount',
      '-t',
      'nfs4',
      '-o',
      'port=12049,vers=4.1',
      '10.0.2.2:/export/v',
      '/mnt/v',
    ]);
    expect(exportMountArgv({ nfs: v41, address: 'fd00::1' }, '/tmp/x')[5]).toBe('[fd00::1]:/export');
  });
});

describe('parseMountOptions', () => {
  it('splits, trims and validates', () => {
    expect(parseMountOptions('hard, timeo=600,,rsize=1048576')).toEqual([
      'hard',
      'timeo=600',
      'rsize=1048576',
    ]);
    expect(parseMountOptions(['a', 'b=c'])).toEqual(['a', 'b=c']);
    expect(parseMountOptions(undefined)).toEqual([]);
  });
  it.each([
    'a b',
    'x=$(id)',
    'x;y',
    'addr=1.2.3.4',
    'vers=3',
    'port=1',
    'proto=udp',
    'mountproto=udp',
    '`id`',
    'a\nb',
  ])('refuses %j', (o) => {
    expect(() => parseMountOptions(o)).toThrow(ValidationError);
  });
});

describe('validateMountPath', () => {
  it.each(['/mnt/x', '/srv/data/pg'])('accepts %j', (p) => expect(validateMountPath(p)).toBe(p));
  it.each(['relative', '/', '/a/../b', '/a//b', '/a/./b', '/a/b/', '/a\nb', '/a\0b'])('refuses %j', (p) => {
    expect(() => validateMountPath(p)).toThrow(ValidationError);
  });
});

describe('docker output parsing (untrusted)', () => {
  const good = JSON.stringify([
    {
      Name: 'v',
      Driver: 'local',
      Options: { type: 'nfs4', o: 'vers=4.1,port=12049,addr=10.0.2.2', device: ':/export/v' },
      Labels: { 'nfsvol.managed': 'true', 'nfsvol.cluster': 'c1' },
    },
  ]);

  it('parses inspect output and checks ownership and drift (option order does not matter)', () => {
    const [info] = parseVolumeInspect('h', good);
    expect(info).toBeDefined();
    if (!info) return;
    expect(isManagedBy(info, 'c1')).toBe(true);
    expect(isManagedBy(info, 'c2')).toBe(false);
    expect(driftOf(info, dockerVolumeOptions(t41, 'v'))).toEqual([]);
    expect(driftOf(info, dockerVolumeOptions({ nfs: v41, address: '10.0.2.3' }, 'v'))).toEqual([
      'o: vers=4.1,port=12049,addr=10.0.2.2 != addr=10.0.2.3,port=12049,vers=4.1',
    ]);
  });

  it.each(['', 'not json', '{"Name":"x"}', '[1]', '[{"Driver":"local"}]', '\u0000\u00ff'])(
    'garbage %j is a typed error naming the host',
    (out) => {
      expect(() => parseVolumeInspect('web1', out)).toThrow(DockerOutputError);
      expect(() => parseVolumeInspect('web1', out)).toThrow(/web1/);
    },
  );

  it('tolerates missing or odd Options/Labels', () => {
    const [info] = parseVolumeInspect('h', '[{"Name":"v","Options":null,"Labels":{"a":1}}]');
    expect(info).toEqual({ name: 'v', driver: '', options: {}, labels: {} });
  });

  it('ls takes one name a line and refuses anything else, quoting it', () => {
    expect(parseVolumeLs('h1', 'a\n\nb\r\n  c  \n')).toEqual(['a', 'b', 'c']);
    for (const junk of ['Welcome to h1!', 'WARNING: x y', '$(id)', '../z', 'a b']) {
      expect(() => parseVolumeLs('h1', `a\n${junk}\nc\n`)).toThrow(
        expect.objectContaining({
          code: 'HOST_BAD_OUTPUT',
          message: `h1: unexpected output from docker volume ls (not a volume name: ${JSON.stringify(junk)})`,
        }),
      );
    }
  });
});
