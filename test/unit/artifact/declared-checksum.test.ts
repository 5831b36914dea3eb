import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normalizeSha256 } from '../../../src/artifact/declared-checksum.js';

const digest = createHash('sha256').update('ferry').digest();
const base64 = digest.toString('base64');
const hex = digest.toString('hex');

describe('normalizeSha256', () => {
  it('keeps a base64 SHA-256 as it is', () => {
    expect(normalizeSha256(base64)).toBe(base64);
  });

  it('turns a hex SHA-256, in either case, into base64', () => {
    expect(normalizeSha256(hex)).toBe(base64);
    expect(normalizeSha256(hex.toUpperCase())).toBe(base64);
  });

  it('ignores surrounding whitespace', () => {
    expect(normalizeSha256(` ${hex}\n`)).toBe(base64);
  });

  it.each([
    ['empty', ''],
    ['too short base64', base64.slice(1)],
    ['base64 of another length', Buffer.alloc(20).toString('base64')],
    ['too short hex', hex.slice(2)],
    ['hex with a non-hex character', `${hex.slice(0, 63)}g`],
    ['base64url', base64.replace(/\+/g, '-').replace(/\//g, '_').padEnd(44, '=')],
    ['an S3 composite checksum', `${base64}-3`],
  ])('rejects %s', (_label, value) => {
    expect(normalizeSha256(value)).toBeUndefined();
  });

  it('rejects a non-canonical base64 spelling of a digest', () => {
    // The last character before '=' carries 2 padding bits; setting them names the same bytes differently.
    const last = base64.charAt(42);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const twisted = alphabet.charAt(alphabet.indexOf(last) | 1);
    expect(normalizeSha256(`${base64.slice(0, 42)}${twisted}=`)).toBeUndefined();
  });
});
