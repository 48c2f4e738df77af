import { readFile, stat } from 'node:fs/promises';
import { ValidationError, validateName } from '../driver/index.js';

/** A names file larger than this is refused before it is read whole (about a million names). */
export const MAX_NAMES_FILE = 64 * 1024 * 1024;

/**
 * Reads `--from FILE` (or `-` for standard input): the text of a list of names. Thousands of
 * names are better given this way than as arguments: argv has a size limit, and yargs slows down
 * sharply past about 16,000 arguments (20,000 took 3 s to parse here).
 */
export async function readNamesInput(path: string, stdin: () => AsyncIterable<Uint8Array>): Promise<string> {
  if (path !== '-') {
    try {
      if ((await stat(path)).size > MAX_NAMES_FILE) {
        throw new ValidationError('from', `${path} is over 64 MiB`);
      }
      return await readFile(path, 'utf8');
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new ValidationError('from', `cannot read ${path}: ${code}`, { cause: err });
    }
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of stdin()) {
    size += c.length;
    if (size > MAX_NAMES_FILE) throw new ValidationError('from', 'standard input is over 64 MiB');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One name per line; blank lines and lines starting with `#` are skipped, surrounding spaces
 * and a Windows line ending are trimmed. A bad name is reported with its line number.
 */
export function parseNamesList(text: string, source: string): string[] {
  const names: string[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      names.push(validateName(line));
    } catch (err) {
      throw new ValidationError('from', `${source} line ${i + 1}: ${(err as Error).message}`, { cause: err });
    }
  }
  return names;
}
