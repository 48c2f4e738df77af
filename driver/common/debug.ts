/**
 * Tracing for whoever has to see what nfsvol says on the wire: every RPC call (procedure, xid,
 * status, time) and every SSH connection and command (its argument vector). On when NODE_DEBUG
 * names `nfsvol`, as for Node's own sections (`NODE_DEBUG=nfsvol`, `NODE_DEBUG=net,nfsvol`,
 * `NODE_DEBUG=nfs*`), or when the CLI is given --debug; lines go to stderr as
 * `NFSVOL <pid>: ...`, the form of Node's util.debuglog.
 *
 * Never traced: key material, passphrases, key file paths, environment values, a command's
 * stdin and output. A trace is something users paste into bug reports.
 */
export type DebugWriter = (line: string) => void;

/** Whether a NODE_DEBUG value names the `nfsvol` section (comma or space separated, `*` wildcards). */
export function debugSectionEnabled(nodeDebug: string | undefined, section = 'nfsvol'): boolean {
  if (!nodeDebug) return false;
  return nodeDebug
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((pattern) => {
      const re = new RegExp(`^${pattern.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
      return re.test(section);
    });
}

const toStderr: DebugWriter = (line) => {
  process.stderr.write(`NFSVOL ${process.pid}: ${line}\n`);
};

let writer: DebugWriter | undefined = debugSectionEnabled(process.env['NODE_DEBUG']) ? toStderr : undefined;

/** Turns tracing on (to stderr, or to `to`), or off with `false`. */
export function setDebug(to: DebugWriter | boolean): void {
  writer = to === false ? undefined : to === true ? toStderr : to;
}

export function debugEnabled(): boolean {
  return writer !== undefined;
}

/** Writes a trace line, made only when tracing is on. */
export function debug(line: () => string): void {
  if (writer) writer(line());
}
