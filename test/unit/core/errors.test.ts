import { describe, expect, it } from 'vitest';
import {
  AccessError,
  ConflictError,
  isThrottlingAwsError,
  isTransient,
  ServiceUnavailableError,
} from '../../../src/core/errors.js';

/** The shape the AWS SDK gives every error it throws (name, $fault, $metadata, sometimes $retryable). */
const sdkError = (name: string, fields: Record<string, unknown>) => Object.assign(new Error(name), { name, ...fields });

describe('isTransient', () => {
  it.each([
    ['a transient ferry error', new ConflictError('X', 'x'), true],
    ['a ferry service error', new ServiceUnavailableError('X', 'x'), true],
    ['a permanent ferry error', new AccessError('X', 'x'), false],
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 's3')"), false],
    ['a plain Error', new Error('something odd'), false],
    ['a string', 'boom', false],
    ['null', null, false],
    [
      'an error the model marks $retryable',
      sdkError('SomeRetryableException', { $retryable: {}, $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      true,
    ],
    ['a server fault', sdkError('InternalError', { $fault: 'server', $metadata: { httpStatusCode: 500 } }), true],
    ['a 503 SlowDown', sdkError('SlowDown', { $fault: 'client', $metadata: { httpStatusCode: 503 } }), true],
    [
      'STS throttling (HTTP 400)',
      sdkError('Throttling', { $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      true,
    ],
    ['any 429', sdkError('Whatever', { $fault: 'client', $metadata: { httpStatusCode: 429 } }), true],
    [
      'S3 RequestTimeout (HTTP 400)',
      sdkError('RequestTimeout', { $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      true,
    ],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['an SDK access denial', sdkError('AccessDenied', { $fault: 'client', $metadata: { httpStatusCode: 403 } }), false],
    [
      'an SDK 400 it does not mark',
      sdkError('ValidationError', { $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      false,
    ],
    ['an SDK 404', sdkError('NoSuchKey', { $fault: 'client', $metadata: { httpStatusCode: 404 } }), false],
  ])('%s → %s', (_, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });

  it('recognises throttling by the SDK flag, the status or the name', () => {
    expect(isThrottlingAwsError(sdkError('X', { $retryable: { throttling: true }, $metadata: {} }))).toBe(true);
    expect(isThrottlingAwsError(sdkError('TooManyRequestsException', { $metadata: { httpStatusCode: 429 } }))).toBe(
      true,
    );
    expect(isThrottlingAwsError(sdkError('AccessDenied', { $metadata: { httpStatusCode: 403 } }))).toBe(false);
  });
});
