import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { NfsvolError } from '../../common/errors.js';

/** Private key files are a few KiB; anything far larger is not one. */
const MAX_KEY_BYTES = 64 * 1024;

export class IdentityFileError extends NfsvolError {
  readonly file: string;
  constructor(file: string, message: string, cause?: unknown) {
    super('SSH_IDENTITY_UNUSABLE', `identity file ${file}: ${message}`, cause === undefined ? {} : { cause });
    this.file = file;
  }
}

/**
 * Reads a private key file, or undefined if there is none at `path`. Only a regular file is
 * read: the open does not block (a FIFO or a device would otherwise hang the command until
 * something writes to it) and the size is capped before a byte is read.
 */
export async function readIdentityFile(path: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new IdentityFileError(path, `cannot be opened (${code ?? 'error'})`, err);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new IdentityFileError(path, 'is not a regular file');
    if (st.size > MAX_KEY_BYTES)
      throw new IdentityFileError(path, `is ${st.size} bytes, too large for a key`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
