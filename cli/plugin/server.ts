/**
 * The plugin's HTTP server on a unix socket, where dockerd finds it (`/run/docker/plugins/` for
 * a managed plugin). It reads at most a small body, parses it as JSON and hands it to
 * handlers.ts; everything Docker sends is input and is checked there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rm } from 'node:fs/promises';
import { failure, handle, type VolumeDriverBackend } from './handlers.js';
import { isEndpoint } from './protocol.js';

/** Docker's requests are a name, an ID and a few options: anything larger is not Docker. */
export const MAX_BODY_BYTES = 64 * 1024;
/** The media type Docker's plugin client asks for and reads. */
const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export interface PluginServerOptions {
  /** Where to listen; a stale socket file left by a crashed plugin is replaced. */
  readonly socketPath: string;
  readonly backend: VolumeDriverBackend;
  /** Told of every failure that is not the caller's (internal, unavailable, corrupt). */
  readonly onProblem?: (endpoint: string, err: string) => void;
}

export interface PluginServer extends AsyncDisposable {
  readonly socketPath: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body as JSON, or undefined for an empty one; throws past MAX_BODY_BYTES or on bad JSON. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '' || text === 'null') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('request body is not JSON');
  }
}

export async function startPluginServer(options: PluginServerOptions): Promise<PluginServer> {
  const { backend, socketPath, onProblem } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method !== 'POST' || !isEndpoint(path)) {
      req.resume();
      send(res, 404, { Err: `USAGE: no endpoint ${req.method ?? ''} ${path}` });
      return;
    }
    readJson(req)
      .then(async (body) => {
        const { answer, category } = await handle(backend, path, body);
        if (category === 'internal' || category === 'unavailable' || category === 'corrupt') {
          onProblem?.(path, String(answer['Err']));
        }
        send(res, 200, answer);
      })
      .catch((err: unknown) => {
        // Only the body can fail here (too large, not JSON): the caller's fault, said as Err.
        send(res, 400, { Err: `USAGE: ${failure(err).Err.replace(/^INTERNAL: /, '')}` });
        req.resume();
      });
  });
  // A socket file left by a plugin that died would make listen fail with EADDRINUSE.
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await rm(socketPath, { force: true });
  };
  return { socketPath, close, [Symbol.asyncDispose]: close };
}
