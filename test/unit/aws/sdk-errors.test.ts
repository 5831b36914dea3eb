import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { translateAwsError } from '../../../src/aws/sdk-errors.js';
import { ExitCode, exitCodeForError } from '../../../src/cli/output.js';
import { InputError } from '../../../src/core/errors.js';

function sdkError(
  name: string,
  status: number,
  extra: Record<string, unknown> = {},
  fault: 'client' | 'server' = 'client',
) {
  return Object.assign(
    new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: `${name} happened` }),
    extra,
  );
}

function withCode(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('every SDK error maps to a ferry error and an exit code', () => {
  it.each([
    [
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      'NO_CREDENTIALS',
      ExitCode.AccessDenied,
    ],
    [sdkError('ExpiredToken', 400), 'CREDENTIALS_EXPIRED', ExitCode.AccessDenied],
    [sdkError('InvalidClientTokenId', 403), 'CREDENTIALS_INVALID', ExitCode.AccessDenied],
    [sdkError('SignatureDoesNotMatch', 403), 'CREDENTIALS_INVALID', ExitCode.AccessDenied],
    [sdkError('AccessDenied', 403), 'AWS_ACCESS_DENIED', ExitCode.AccessDenied],
    [
      sdkError('PermanentRedirect', 301, {
        Bucket: 'b',
        $response: { headers: { 'x-amz-bucket-region': 'us-west-2' } },
      }),
      'BUCKET_IN_OTHER_REGION',
      ExitCode.Usage,
    ],
    [sdkError('NoSuchBucket', 404, { BucketName: 'b' }), 'BUCKET_NOT_FOUND', ExitCode.Usage],
    [sdkError('ResourceNotFoundException', 404), 'AWS_NOT_FOUND', ExitCode.Rejected],
    [sdkError('ValidationException', 400), 'AWS_REQUEST_REJECTED', ExitCode.Rejected],
    [sdkError('ThrottlingException', 400), 'AWS_THROTTLED', ExitCode.Transient],
    [sdkError('SlowDown', 503, {}, 'server'), 'AWS_THROTTLED', ExitCode.Transient],
    [sdkError('ResourceConflictException', 409), 'AWS_CONFLICT', ExitCode.Transient],
    [sdkError('InternalError', 500, {}, 'server'), 'AWS_UNAVAILABLE', ExitCode.Transient],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'AWS_UNAVAILABLE', ExitCode.Transient],
    [withCode('ECONNREFUSED'), 'ENDPOINT_UNREACHABLE', ExitCode.Transient],
  ] as const)('%s → %s, exit %i', (error, code, exit) => {
    expect(translateAwsError(error, { region: 'eu-west-1' })?.code).toBe(code);
    expect(exitCodeForError(error)).toBe(exit);
  });

  it('names the bucket and its Region for PermanentRedirect', () => {
    const error = sdkError('PermanentRedirect', 301, {
      Bucket: 'ferry-art',
      $response: { headers: { 'x-amz-bucket-region': 'us-west-2' } },
    });
    expect(translateAwsError(error, { region: 'eu-west-1' })?.message).toBe(
      'The bucket ferry-art is in Region us-west-2, not eu-west-1: set `region: us-west-2` in the configuration (or pass --region us-west-2).',
    );
  });

  it('leaves ferry errors and non-AWS errors alone (an unclassified error exits 1)', () => {
    expect(translateAwsError(new InputError('X', 'x'))).toBeUndefined();
    expect(translateAwsError(new TypeError('bug'))).toBeUndefined();
    expect(exitCodeForError(new TypeError('bug'))).toBe(ExitCode.Failed);
  });
});
