/**
 * The Lambda errors the sandbox answers with, built in one place so codes, statuses and messages
 * stay the ones AWS uses (the SDK picks the exception class from the code).
 */
import { AwsError } from '../contracts.js';

export function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterValueException', 400, message);
}

/** Model-level constraint violations (patterns, lengths) come back as ValidationException. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationException', 400, message);
}

export function functionNotFound(arn: string): AwsError {
  return new AwsError('ResourceNotFoundException', 404, `Function not found: ${arn}`);
}

export function aliasNotFound(arn: string): AwsError {
  return new AwsError('ResourceNotFoundException', 404, `Alias not found: ${arn}`);
}

export function resourceNotFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', 404, message);
}

export function resourceConflict(message: string): AwsError {
  return new AwsError('ResourceConflictException', 409, message);
}

/** What Lambda answers to any update on a function whose LastUpdateStatus is InProgress. */
export function updateInProgress(functionArn: string): AwsError {
  return resourceConflict(
    `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn}`,
  );
}

export function revisionMismatch(kind: 'function' | 'alias'): AwsError {
  const call = kind === 'function' ? 'GetFunction' : 'GetAlias';
  return new AwsError(
    'PreconditionFailedException',
    412,
    `The Revision Id provided does not match the latest Revision Id. Call the ${call} API to retrieve the latest Revision Id`,
  );
}

export function accessDenied(
  callerArn: string,
  action: string,
  resourceArn: string,
  policyKind: 'identity-based' | 'resource-based',
): AwsError {
  return new AwsError(
    'AccessDeniedException',
    403,
    `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resourceArn} because no ${policyKind} policy allows the ${action} action`,
  );
}

export function throttled(retryAfterSeconds: number): AwsError {
  return new AwsError('TooManyRequestsException', 429, 'Rate exceeded', {
    Reason: 'CallerRateLimitExceeded',
    retryAfterSeconds: String(retryAfterSeconds),
  });
}

export function codeStorageExceeded(): AwsError {
  return new AwsError('CodeStorageExceededException', 400, 'Code storage limit exceeded.');
}
