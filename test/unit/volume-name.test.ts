import { describe, expect, it } from 'vitest';
import { HOSTILE_NAMES } from '../fakes/hostile-inputs.js';
import { ValidationError } from '../../driver/common/errors.js';
import { MAX_NAME_BYTES, validateName, validateNames } from '../../driver/core/names.js';
import { parseId, parseLabels, parseMode } from '../../driver/core/volume-fields.js';

describe('validateName', () => {
  it.each(['ab', 'pgdata', 'vol-1', 'Vol_2.backup', '9lives', 'x'.repeat(MAX_NAME_BYTES)])(
    'accepts %j',
    (n) => {
      expect(validateName(n)).toBe(n);
    },
  );

  it.each(HOSTILE_NAMES)('refuses %j with a ValidationError naming the field', (n) => {
    expect(() => validateName(n, 'volume')).toThrow(ValidationError);
    try {
      validateName(n, 'volume');
    } catch (err) {
      expect((err as ValidationError).field).toBe('volume');
      expect((err as ValidationError).code).toBe('VALIDATION');
    }
  });

  it('refuses one-character names, as the Docker daemon does', () => {
    expect(() => validateName('a')).toThrow(/at least 2/);
  });

  it('refuses a name one byte over the limit and counts bytes, not characters', () => {
    expect(() => validateName('x'.repeat(MAX_NAME_BYTES + 1))).toThrow(/bytes long/);
  });

  it('refuses non-strings', () => {
    expect(() => validateName(42)).toThrow(ValidationError);
    expect(() => validateName(undefined)).toThrow(ValidationError);
  });

  it('validateNames fails on the first bad name of a list and de-duplicates good ones', () => {
    expect(validateNames(['aa', 'bb', 'aa'])).toEqual(['aa', 'bb']);
    expect(() => validateNames(['aa', '$(id)', 'bb'])).toThrow(ValidationError);
    expect(() => validateNames([])).toThrow(ValidationError);
  });
});

describe('parseLabels', () => {
  it('splits on the first = only, so values may contain =', () => {
    expect(parseLabels(['opts=a=b=c', 'team=web', 'empty='])).toEqual({
      opts: 'a=b=c',
      team: 'web',
      empty: '',
    });
  });
  it.each(['novalue', '=x', 'bad key=x', 'k\n=x', 'nfsvol.managed=false', '$(id)=x'])('refuses %j', (l) => {
    expect(() => parseLabels([l])).toThrow(ValidationError);
  });
  it('refuses values with newlines or NUL', () => {
    expect(() => parseLabels(['k=a\nb'])).toThrow(ValidationError);
    expect(() => parseLabels(['k=a\0b'])).toThrow(ValidationError);
  });
  it('keeps shell metacharacters in values as plain text', () => {
    expect(parseLabels(['cmd=$(id);`x`'])).toEqual({ cmd: '$(id);`x`' });
  });
});

describe('parseMode / parseId', () => {
  it('parses octal modes', () => {
    expect(parseMode('0755')).toBe(0o755);
    expect(parseMode('700')).toBe(0o700);
    expect(parseMode('0o2775')).toBe(0o2775);
    expect(() => parseMode('0999')).toThrow(ValidationError);
    expect(() => parseMode('rwx')).toThrow(ValidationError);
  });
  it('parses ids', () => {
    expect(parseId('999', 'uid')).toBe(999);
    expect(() => parseId('-1', 'uid')).toThrow(ValidationError);
    expect(() => parseId('1e3', 'uid')).toThrow(ValidationError);
  });
});
