/**
 * The CLI as a real process (its own stdout, stderr and terminal, as cli/main.ts wires them)
 * over a fake cluster: an in-memory export and two fake Docker hosts (test/fakes/fake-cluster.ts),
 * initialised and both hosts added before the command runs. Lets tests see what a user sees in a
 * pipe or a terminal (EPIPE, the progress display) without the lab.
 *
 *   node --import tsx test/support/fake-cluster-cli.ts volume ls | head -1
 *
 * Environment: FAKE_VOLUMES=N volumes exist before the command runs (named v00000...);
 * FAKE_MKDIR_MS=N makes each directory creation on the export take N ms (a slow server).
 */
import { runCli } from '../../cli/app.js';
import { processIo } from '../../cli/process-io.js';
import { expectCode, initialisedCli } from './cli.js';

const s = await initialisedCli();
const existing = Number(process.env['FAKE_VOLUMES'] ?? 0);
if (existing > 0) {
  const names = Array.from({ length: existing }, (_, i) => `v${String(i).padStart(5, '0')}`);
  expectCode(await s.cli('volume', 'create', '-q', ...names), 0, 'set-up: volume create');
}
const delay = Number(process.env['FAKE_MKDIR_MS'] ?? 0);
if (delay > 0) {
  const mkdir = s.fs.mkdir.bind(s.fs);
  s.fs.mkdir = async (...a: Parameters<typeof mkdir>) => {
    await new Promise((r) => setTimeout(r, delay));
    return mkdir(...a);
  };
}

const io = processIo();
process.exitCode = await runCli(process.argv.slice(2), {
  io: { ...io, env: { ...process.env, NFSVOL_CONFIG: s.config } },
  cluster: s.cliOptions,
});
