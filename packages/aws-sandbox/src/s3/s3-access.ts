/**
 * S3 authorization: the caller's identity policies and the bucket policy, combined as the S3 User
 * Guide describes ("How Amazon S3 authorizes a request"): within the bucket owner's account either
 * may grant; from another account both must; an explicit Deny in either wins.
 */
import type { Caller } from '../contracts.js';
import { buildConditionKeys, describeDenial, type IamStore } from '../iam.js';
import { combineDecisions, evaluateResourcePolicy } from '../policy.js';
import { S3Error } from './s3-errors.js';
import type { Bucket } from './s3-store.js';

export function isS3ActionAllowed(
  iam: IamStore,
  caller: Caller,
  bucket: Bucket,
  action: string,
  resource: string,
): boolean {
  const identity = iam.decideForIdentity(caller, { action, resource });
  const resourceDecision = evaluateResourcePolicy(bucket.policy?.document, {
    action,
    resource,
    principal: caller,
    keys: buildConditionKeys(caller),
  });
  return combineDecisions(identity, resourceDecision, caller.accountId === bucket.accountId);
}

export function requireS3Action(iam: IamStore, caller: Caller, bucket: Bucket, action: string, resource: string): void {
  if (!isS3ActionAllowed(iam, caller, bucket, action, resource)) {
    throw new S3Error('AccessDenied', 403, describeDenial(caller, action, resource));
  }
}

export function toBucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function toObjectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}
