/**
 * How each service refuses a request it cannot authenticate. The codes differ per protocol (STS:
 * InvalidClientTokenId, S3: InvalidAccessKeyId, Lambda and CodePipeline:
 * UnrecognizedClientException…), and the SDK raises a different exception class for each.
 */
import { AwsError } from './contracts.js';

export const AuthFailure = {
  Missing: 'Missing',
  UnknownKey: 'UnknownKey',
  BadToken: 'BadToken',
  Expired: 'Expired',
  BadSignature: 'BadSignature',
} as const;
export type AuthFailure = (typeof AuthFailure)[keyof typeof AuthFailure];

type Shape = readonly [code: string, status: number, message: string];

const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired';
const BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const JSON_SERVICE_SHAPES = (status: number): Record<AuthFailure, Shape> => ({
  Missing: ['MissingAuthenticationTokenException', status, 'Missing Authentication Token'],
  UnknownKey: ['UnrecognizedClientException', status, INVALID_TOKEN],
  BadToken: ['UnrecognizedClientException', status, INVALID_TOKEN],
  Expired: ['ExpiredTokenException', status, EXPIRED_TOKEN],
  BadSignature: ['InvalidSignatureException', status, BAD_SIGNATURE],
});

const SHAPES: Record<string, Record<AuthFailure, Shape>> = {
  sts: {
    Missing: ['MissingAuthenticationToken', 403, 'Request is missing Authentication Token'],
    UnknownKey: ['InvalidClientTokenId', 403, INVALID_TOKEN],
    BadToken: ['InvalidClientTokenId', 403, INVALID_TOKEN],
    // Query services answer an expired session with 403 (IAM/STS ErrorResponse, Sender, ExpiredToken).
    Expired: ['ExpiredToken', 403, EXPIRED_TOKEN],
    BadSignature: ['SignatureDoesNotMatch', 403, BAD_SIGNATURE],
  },
  s3: {
    Missing: ['AccessDenied', 403, 'Access Denied'],
    UnknownKey: ['InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.'],
    BadToken: ['InvalidToken', 400, 'The provided token is malformed or otherwise invalid.'],
    Expired: ['ExpiredToken', 400, 'The provided token has expired.'],
    BadSignature: [
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ],
  },
  // REST-JSON answers these with 403, JSON 1.1 with 400.
  lambda: JSON_SERVICE_SHAPES(403),
  codepipeline: JSON_SERVICE_SHAPES(400),
  events: JSON_SERVICE_SHAPES(400),
  // CloudWatch keeps its Query codes in JSON (query-compatible): as STS, 403 with InvalidClientTokenId.
  monitoring: {
    Missing: ['MissingAuthenticationToken', 403, 'Request is missing Authentication Token'],
    UnknownKey: ['InvalidClientTokenId', 403, INVALID_TOKEN],
    BadToken: ['InvalidClientTokenId', 403, INVALID_TOKEN],
    Expired: ['ExpiredToken', 403, EXPIRED_TOKEN],
    BadSignature: ['SignatureDoesNotMatch', 403, BAD_SIGNATURE],
  },
};

export function createAuthError(service: string, failure: AuthFailure): AwsError {
  const shape = (SHAPES[service] ?? SHAPES.sts)?.[failure] ?? ['AccessDenied', 403, 'Access Denied'];
  const [code, status, message] = shape;
  return new AwsError(code, status, message);
}
