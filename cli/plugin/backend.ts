/**
 * The plugin's backend: the library's `HostVolumes` (the registry's volumes, mounted on this
 * host), with answers in the shapes Docker reads.
 */
import type { HostVolume, HostVolumes } from '../../driver/index.js';
import type { VolumeDriverBackend } from './handlers.js';
import type { DockerVolume } from './protocol.js';

const toDocker = (v: HostVolume): DockerVolume => ({
  Name: v.name,
  CreatedAt: v.createdAt,
  ...(v.mountpoint === undefined ? {} : { Mountpoint: v.mountpoint }),
});

export function hostVolumesBackend(volumes: HostVolumes): VolumeDriverBackend {
  return {
    create: (name, spec) => volumes.create(name, spec),
    remove: (name) => volumes.remove(name),
    mount: (name, id) => volumes.mount(name, id),
    unmount: (name, id) => volumes.unmount(name, id),
    path: (name) => volumes.path(name),
    get: async (name) => toDocker(await volumes.get(name)),
    list: async () => (await volumes.list()).map(toDocker),
  };
}
