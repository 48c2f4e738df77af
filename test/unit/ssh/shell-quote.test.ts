import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArgv, shellQuote } from '../../../driver/attach/ssh/shell-quote.js';

/** Runs the quoted command line through a real /bin/sh and returns the argv it hands over. */
function roundTrip(args: readonly string[]): string[] {
  const line = `printf '%s\\0' ${args.map(shellQuote).join(' ')}`;
  const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'buffer' });
  const parts = out.toString('utf8').split('\0');
  parts.pop();
  return parts;
}

const NASTY = [
  'plain',
  '',
  ' ',
  "it's",
  "''",
  '"double"',
  '$(touch /tmp/nfsvol-pwned)',
  '`touch /tmp/nfsvol-pwned`',
  '$HOME',
  '${IFS}',
  'a;rm -rf /',
  'a && b || c',
  'line1\nline2',
  'tab\there',
  '\\back\\slash',
  '*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '#comment',
  '-n',
  '--',
  '!bang',
  'caf\u00e9 \u2603',
  'a=b=c',
  '<in >out 2>&1',
  '\u0001\u001b[31m',
];

describe('shellQuote', () => {
  it('recovers every argument exactly through /bin/sh', () => {
    expect(roundTrip(NASTY)).toEqual(NASTY);
  });

  it('recovers each argument on its own', () => {
    for (const a of NASTY) expect(roundTrip([a])).toEqual([a]);
  });

  it('leaves safe words alone and quotes the rest', () => {
    expect(shellQuote('docker')).toBe('docker');
    expect(shellQuote('o=addr=10.0.2.2,vers=4.1')).toBe('o=addr=10.0.2.2,vers=4.1');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('refuses NUL, which argv cannot carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it('quoteArgv refuses an empty argv', () => {
    expect(() => quoteArgv([])).toThrow();
    expect(quoteArgv(['docker', 'volume', 'rm', 'a b'])).toBe("docker volume rm 'a b'");
  });

  it('does not run injected commands', () => {
    const canary = `/tmp/nfsvol-canary-${process.pid}`;
    execFileSync('/bin/sh', [
      '-c',
      quoteArgv(['echo', `$(touch ${canary})`, `\`touch ${canary}\``, `;touch ${canary}`]),
    ]);
    expect(() => execFileSync('test', ['-e', canary])).toThrow();
  });
});
