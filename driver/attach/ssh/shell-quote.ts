import { ValidationError } from '../../common/errors.js';

/** Characters that never need quoting in a POSIX shell word. */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument for a POSIX shell: safe words stay as they are, anything else is wrapped
 * in single quotes, with each `'` written as `'\''`. Inside single quotes nothing is special
 * (no `$`, backticks, `\`, globs or newlines), so the shell hands the exact bytes to the program.
 * NUL cannot be passed through argv at all and is refused.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new ValidationError('argument', 'must not contain a NUL byte');
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Builds the command line an SSH server hands to the user's shell from an argument vector. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new ValidationError('argv', 'must name a program');
  return argv.map(shellQuote).join(' ');
}
