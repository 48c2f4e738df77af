import { request } from 'node:http';

export interface PluginReply {
  readonly status: number;
  readonly type: string;
  readonly json: Record<string, unknown>;
}

/** One request to a volume plugin's unix socket, as dockerd makes it; the reply as JSON. */
export function postPlugin(
  socketPath: string,
  path: string,
  body: string | Buffer,
  method = 'POST',
): Promise<PluginReply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `VolumeDriver.<endpoint>` with a JSON body: the answer Docker reads. */
export async function askPlugin(
  socketPath: string,
  endpoint: string,
  body: unknown = {},
): Promise<Record<string, unknown>> {
  return (await postPlugin(socketPath, `/VolumeDriver.${endpoint}`, JSON.stringify(body))).json;
}
