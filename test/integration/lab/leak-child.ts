// Child process for lab.leaks.test.ts: starts an NFS server (and, with --host, one VM), prints
// its session, then waits to be killed.
import { LabSession, startHosts, startNfsServer } from '../../../deploy/lab/index.js';

const session = await LabSession.current();
await startNfsServer({ onProgress: () => undefined });
if (process.argv.includes('--host')) await startHosts(1, { onProgress: () => undefined });
process.stdout.write(`${JSON.stringify({ id: session.id, dir: session.dir })}\n`);
// Stay alive until the test kills this process.
setInterval(() => undefined, 60_000);
