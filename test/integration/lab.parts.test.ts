// The lab's VM pieces that need no VM: qemu's command line and the QMP
// client (against a fake monitor that speaks QMP's line protocol).
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LabError } from '../../deploy/lab/index.js';
import { labAccel, qemuArgv } from '../../deploy/lab/vm/qemu-argv.js';
import { qmp } from '../../deploy/lab/vm/qmp.js';

describe('lab: qemuArgv', () => {
  it('doubles commas in paths inside option values, forwards sshd to loopback only', () => {
    const argv = qemuArgv({
      name: 'lab1',
      dir: '/tmp/a,b',
      image: { kernel: '/k', initrd: '/i', disk: '/d' },
      memoryMiB: 512,
      sshPort: 2222,
      qmpSocket: 'q.qmp',
    });
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(argv).toContain('file=/tmp/a,,b/disk.qcow2,if=virtio,format=qcow2');
    expect(argv).toContain('user,id=n0,ipv6=off,hostfwd=tcp:127.0.0.1:2222-:22');
    expect(argv[argv.indexOf('-m') + 1]).toBe('512');
    expect(argv.slice(argv.indexOf('-accel'), argv.indexOf('-m'))).toEqual(['-accel', 'tcg']);
  });

  it('uses KVM where /dev/kvm opens, with TCG as the fallback qemu tries next; NFSVOL_LAB_ACCEL overrides', () => {
    const base = {
      name: 'lab1',
      dir: '/tmp/x',
      image: { kernel: '/k', initrd: '/i', disk: '/d' },
      memoryMiB: 512,
      sshPort: 2222,
      qmpSocket: 'q.qmp',
    };
    const kvm = qemuArgv({ ...base, accel: 'kvm' });
    expect(kvm.slice(kvm.indexOf('-accel'), kvm.indexOf('-m'))).toEqual(['-accel', 'kvm', '-accel', 'tcg']);
    expect(labAccel({}, () => true)).toBe('kvm');
    expect(labAccel({}, () => false)).toBe('tcg');
    expect(labAccel({ NFSVOL_LAB_ACCEL: 'tcg' }, () => true)).toBe('tcg');
    expect(labAccel({ NFSVOL_LAB_ACCEL: 'kvm' }, () => false)).toBe('kvm');
  });
});

describe('lab: qmp', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
  });

  /** A fake monitor: greets, acknowledges qmp_capabilities, answers the command with `reply`. */
  async function fakeMonitor(reply: (command: Record<string, unknown>) => object): Promise<{
    name: string;
    received: Record<string, unknown>[];
  }> {
    const name = `nfsvol-lab-test-${process.pid}-${Math.random().toString(36).slice(2)}.qmp`;
    const received: Record<string, unknown>[] = [];
    server = createServer((socket: Socket) => {
      socket.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`);
      let buffer = '';
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const message = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
          buffer = buffer.slice(newline + 1);
          received.push(message);
          if (message['execute'] === 'qmp_capabilities') {
            socket.write(`${JSON.stringify({ event: 'NOISE' })}\n${JSON.stringify({ return: {} })}\n`);
          } else {
            socket.write(`${JSON.stringify(reply(message))}\n`);
          }
        }
      });
    });
    await new Promise<void>((resolve) => server?.listen({ path: `\0${name}` }, resolve));
    return { name, received };
  }

  it('negotiates capabilities, then sends the command and returns its result', async () => {
    const monitor = await fakeMonitor(() => ({ return: { ok: true } }));
    expect(await qmp(monitor.name, 'set_link', { name: 'n0', up: false })).toEqual({ ok: true });
    expect(monitor.received).toEqual([
      { execute: 'qmp_capabilities' },
      { execute: 'set_link', arguments: { name: 'n0', up: false } },
    ]);
  });

  it("fails with QMP_ERROR on qemu's error reply and when nothing listens", async () => {
    const monitor = await fakeMonitor(() => ({ error: { class: 'GenericError', desc: 'no such link' } }));
    const refused = qmp(monitor.name, 'set_link', { name: 'n9', up: true });
    await expect(refused).rejects.toBeInstanceOf(LabError);
    await expect(refused).rejects.toMatchObject({ code: 'QMP_ERROR', message: /no such link/ });
    await expect(qmp(`${monitor.name}.absent`, 'query-status')).rejects.toMatchObject({ code: 'QMP_ERROR' });
  });
});
