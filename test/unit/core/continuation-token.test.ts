import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeContinuationToken, encodeContinuationToken } from '../../../src/core/pipeline-job.js';

const SHA = `${'a'.repeat(43)}=`;
const state = {
  build: '101',
  codeSha256: SHA,
  versionId: 'v1',
  sizeBytes: 10,
  fingerprint: 'abcdefABCD-_',
  executionId: 'exec-1',
  done: [{ index: 0, status: 'deployed' as const, version: '2', previousVersion: '1' }],
};

/** A payload re-signed with the token's (unkeyed) digest, as anyone could. */
function sign(payload: unknown): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `ferry1.${body}.${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 16)}`;
}
const compact = { b: '101', c: SHA, o: 'v1', n: 10, f: 'abcdefABCD-_', e: 'exec-1', d: [[0, 1, '2', '1']] };

describe('continuation token schema', () => {
  it('round-trips what ferry wrote', () => {
    expect(decodeContinuationToken(encodeContinuationToken(state))).toEqual(state);
  });

  it.each([
    ['an unknown key', { ...compact, admin: true }],
    ['a version that is not a version number', { ...compact, d: [[0, 1, '../2', '1']] }],
    ['an index given as a string', { ...compact, d: [['0', 1, '2', '1']] }],
    ['a size that is not an integer', { ...compact, n: 1.5 }],
    [
      'a target listed twice',
      {
        ...compact,
        d: [
          [0, 1, '2', '1'],
          [0, 0, '3', ''],
        ],
      },
    ],
    ['a fingerprint of another shape', { ...compact, f: 'x' }],
  ])('refuses %s, even correctly signed', (_name, payload) => {
    expect(() => decodeContinuationToken(sign(payload))).toThrow(/PIPELINE_TOKEN_INVALID|not one this version/);
  });
});
