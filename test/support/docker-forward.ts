import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabHost } from '../../deploy/lab/index.js';

export interface ForwardedDocker extends AsyncDisposable {
  /** `unix:///...`: a DOCKER_HOST on this machine that is the lab host's dockerd. */
  readonly dockerHost: string;
  close(): Promise<void>;
}

/**
 * The lab host's Docker socket on this machine, forwarded by OpenSSH (`ssh -L SOCKET:
 * /var/run/docker.sock`), so a client that runs here (Debian's docker-compose) drives that
 * host's dockerd, as it would over `DOCKER_HOST=ssh://`.
 */
export async function forwardDocker(h: LabHost): Promise<ForwardedDocker> {
  const dir = await mkdtemp(join(tmpdir(), 'nfsvol-docker-fwd-'));
  const kh = join(dir, 'known_hosts');
  await writeFile(kh, `${h.knownHostsLine}\n`);
  const socket = join(dir, 'docker.sock');
  const child: ChildProcess = spawn(
    'ssh',
    [
      '-N',
      '-o',
      'BatchMode=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${kh}`,
      '-i',
      h.privateKeyPath,
      '-p',
      String(h.sshPort),
      '-L',
      `${socket}:/var/run/docker.sock`,
      `${h.user}@${h.sshHost}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; ; i++) {
    if (
      await stat(socket).then(
        () => true,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null || i > 300) {
      child.kill();
      throw new Error(`ssh -L to ${h.name} did not forward the Docker socket: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const close = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill();
    await exited;
  };
  return { dockerHost: `unix://${socket}`, close, [Symbol.asyncDispose]: close };
}
