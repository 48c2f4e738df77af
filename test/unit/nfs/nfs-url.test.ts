import { describe, expect, it } from 'vitest';
import { formatNfsUrl, parseNfsUrl } from '../../../driver/nfs/nfs-url.js';
import { ValidationError } from '../../../driver/common/errors.js';

describe('parseNfsUrl', () => {
  it('reads server, port, export and options', () => {
    const t = parseNfsUrl(
      'nfs://nas.example:2049/srv/nfs/?version=3&uid=1000&gid=100&gids=4,27&mountport=20048',
    );
    expect(t).toMatchObject({
      host: 'nas.example',
      port: 2049,
      mountPort: 20048,
      exportPath: '/srv/nfs',
      version: 3,
      uid: 1000,
      gid: 100,
      gids: [4, 27],
      rpcbindPort: 111,
    });
    expect(parseNfsUrl(formatNfsUrl(t))).toEqual(t);
  });

  it('accepts libnfs parameter names and IPv6 literals', () => {
    expect(parseNfsUrl('nfs://127.0.0.1/export?nfsport=12049&mountport=1').port).toBe(12049);
    expect(parseNfsUrl('nfs://[::1]:2049/export').host).toBe('::1');
  });

  it.each([
    ['http://x/export', /expected an nfs:\/\/ URL/],
    ['nfs://server', /no export path/],
    ['nfs://server/', /no export path/],
    ['nfs://server/a/../b', /"\."|\.\./],
    ['nfs://server/export?version=4', /version: must be 3 or 4.1/],
    ['nfs://server/export?uid=-1', /uid: must be a whole number/],
    ['nfs://server/export?uid=99999999999', /uid: must be from 0/],
    ['nfs://server/export?gids=' + Array.from({ length: 17 }, (_, i) => i).join(','), /at most 16/],
    ['nfs://server/export?mountprot=1', /unknown parameter "mountprot"/],
    ['nfs://u:p@server/export', /user or password/],
    ['nfs://server:1/export?nfsport=2', /disagrees/],
    ['not a url', /not a URL/],
    ['nfs://server/%zz', /percent-encoding/],
  ])('refuses %s with an error naming the field', (url, message) => {
    expect(() => parseNfsUrl(url)).toThrow(ValidationError);
    expect(() => parseNfsUrl(url)).toThrow(message);
  });
});
