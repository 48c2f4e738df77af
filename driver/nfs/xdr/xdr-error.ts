import { NfsvolError } from '../../common/errors.js';

/**
 * Malformed XDR input: truncated data, a length field beyond the buffer or beyond a protocol
 * limit, or a value out of range. Raised instead of reading past the end or allocating what an
 * untrusted length field claims.
 */
export class XdrError extends NfsvolError {
  constructor(code: 'XDR_TRUNCATED' | 'XDR_TOO_LONG' | 'XDR_BAD_VALUE', message: string) {
    super(code, message);
  }
}
