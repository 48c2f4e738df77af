/** The NfsFs contract against the in-memory fake the registry's unit tests use. */
import { describeNfsFsContract } from '../../contract/nfs-fs.contract.js';
import { MemoryNfs, sharedView } from '../../fakes/memory-nfs.js';

describeNfsFsContract('MemoryNfs', async () => {
  const fs = new MemoryNfs();
  await fs.mkdir('case');
  return { fs, dir: 'case', teardown: () => fs.close() };
});

// What the registry's tests hand each simulated process: one tree, a close that leaves it usable.
describeNfsFsContract('sharedView(MemoryNfs)', async () => {
  const shared = new MemoryNfs();
  await shared.mkdir('case');
  const fs = sharedView(shared);
  return { fs, dir: 'case', teardown: () => fs.close() };
});
