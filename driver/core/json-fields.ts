import { CorruptRecordError } from './registry/errors.js';

/** Reads fields of untrusted JSON, throwing CorruptRecordError that names the file and the field. */
export class Fields {
  constructor(
    private readonly file: string,
    readonly obj: Record<string, unknown>,
  ) {}
  private bad(key: string, want: string): never {
    throw new CorruptRecordError(this.file, `field '${key}' must be ${want}`);
  }
  str(key: string): string {
    const v = this.obj[key];
    return typeof v === 'string' ? v : this.bad(key, 'a string');
  }
  optStr(key: string): string | undefined {
    return this.obj[key] === undefined ? undefined : this.str(key);
  }
  int(key: string): number {
    const v = this.obj[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? v
      : this.bad(key, 'a non-negative integer');
  }
  optInt(key: string): number | undefined {
    return this.obj[key] === undefined ? undefined : this.int(key);
  }
  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.obj[key];
    return values.includes(v as T) ? (v as T) : this.bad(key, `one of ${values.join(', ')}`);
  }
  sub(key: string): Fields {
    const v = this.obj[key];
    return isPlainObject(v) ? new Fields(this.file, v) : this.bad(key, 'an object');
  }
  strArray(key: string): string[] {
    const v = this.obj[key];
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : this.bad(key, 'a list of strings');
  }
  strMap(key: string): Record<string, string> {
    const v = this.obj[key];
    if (!isPlainObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
      return this.bad(key, 'a map of strings');
    }
    return { ...(v as Record<string, string>) };
  }
  array(key: string): Fields[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || !v.every(isPlainObject)) return this.bad(key, 'a list of objects');
    return v.map((o) => new Fields(this.file, o));
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses untrusted bytes (a registry record, a config file) as one JSON object, at most
 * `maxBytes` long and valid UTF-8; every failure is a CorruptRecordError naming the file.
 */
export function readJsonObject(file: string, bytes: Uint8Array | string, maxBytes: number): Fields {
  if (bytes.length > maxBytes) throw new CorruptRecordError(file, `larger than ${maxBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : UTF8.decode(bytes));
  } catch (err) {
    throw new CorruptRecordError(file, 'not valid JSON', err);
  }
  if (!isPlainObject(json)) throw new CorruptRecordError(file, 'not a JSON object');
  return new Fields(file, json);
}
