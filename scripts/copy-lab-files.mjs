// Copies what the lab runs besides its compiled modules (shell scripts, the VM's init scripts,
// the NFS container's entrypoint) next to them in dist/deploy/lab/, where util.ts's labDir finds
// them in the installed package as it does in a checkout. Modes are kept: build.sh installs
// them into images as they are.
//
//   node scripts/copy-lab-files.mjs
import { chmodSync, copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const files = [
  'build.sh',
  'ci-setup.sh',
  'reap.sh',
  'start-dockerd.sh',
  'nfs/entrypoint.sh',
  'vm/initramfs-init',
  'vm/lab-init',
];
for (const file of files) {
  const from = join('deploy', 'lab', file);
  const to = join('dist', 'deploy', 'lab', file);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, statSync(from).mode & 0o777);
}
