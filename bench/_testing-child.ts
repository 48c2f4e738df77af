// Child process for bench/testing.ts's leak test: a user's test process in the middle of a test.
// It starts a cluster with nfsvol/testing, prints its lab session, and waits to be SIGKILLed.
import { LabSession } from '../deploy/lab/index.js';
import { startCluster } from '../deploy/testing/index.js';

const session = await LabSession.current();
const lab = await startCluster({ hosts: 1, onProgress: () => undefined });
process.stdout.write(`${JSON.stringify({ session: session.id, container: lab.nfs.getId() })}\n`);
// Mid-test: stay alive until the parent kills this process.
setInterval(() => undefined, 60_000);
