// A client for one command on qemu's machine protocol (QMP): the lab uses it to cut and restore a
// VM's network link while the guest runs.
import { connect, type Socket } from 'node:net';
import { LabError } from '../errors.js';
import { settledPromise } from '../../../driver/common/settle-once.js';

/** How long qemu has to greet, accept the capabilities handshake and answer the command. */
const QMP_TIMEOUT_MS = 10_000;

/**
 * The name of a VM's QMP socket. It is in the abstract namespace (no path length limit, nothing
 * to clean up) and opened with tight=off: Node pads abstract addresses to the full sun_path, so
 * qemu must listen on the padded name too.
 */
export function qmpSocketName(sessionId: string, vmName: string): string {
  return `nfsvol-lab-${sessionId}-${vmName}.qmp`;
}

/**
 * Sends one QMP command over the monitor socket and returns its result. QMP speaks one JSON
 * object per line: a greeting, then `qmp_capabilities` must be acknowledged before any command;
 * asynchronous events may arrive between replies and are skipped.
 */
export function qmp(socketName: string, execute: string, args?: Record<string, unknown>): Promise<unknown> {
  let socket: Socket | undefined;
  const failure = (message: string, cause?: unknown): LabError =>
    new LabError('QMP_ERROR', `QMP ${execute}: ${message}`, { cause });
  return settledPromise<unknown>(
    {
      timeoutMs: QMP_TIMEOUT_MS,
      onTimeout: () => failure(`no answer within ${QMP_TIMEOUT_MS} ms`),
      cleanup: () => socket?.destroy(),
    },
    (settle) => {
      const sock = connect({ path: `\0${socketName}` });
      socket = sock;
      let buffer = '';
      let stage: 'greeting' | 'capabilities' | 'command' = 'greeting';
      const send = (message: object): void => {
        sock.write(`${JSON.stringify(message)}\n`);
      };
      sock.on('error', (error) => settle.reject(failure(error.message, error)));
      sock.on('close', () => settle.reject(failure('qemu closed the monitor socket')));
      sock.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line === '') continue;
          let message: Record<string, unknown>;
          try {
            message = JSON.parse(line) as Record<string, unknown>;
          } catch (error) {
            return settle.reject(failure(`bad reply ${line}`, error));
          }
          if ('event' in message) continue;
          if ('error' in message) return settle.reject(failure(JSON.stringify(message['error'])));
          if (stage === 'greeting') {
            stage = 'capabilities';
            send({ execute: 'qmp_capabilities' });
          } else if (stage === 'capabilities') {
            stage = 'command';
            send(args === undefined ? { execute } : { execute, arguments: args });
          } else {
            return settle.resolve(message['return']);
          }
        }
      });
    },
  );
}
