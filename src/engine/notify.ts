/**
 * ferry's notifications: every deployment state change (started, shifting, baking, succeeded,
 * rolled back, superseded, failed) as an EventBridge event on the tooling account's default bus,
 * source `ferry`, detail-type `ferry deployment state change`. A notification is never worth a
 * deployment: what EventBridge refuses for a while (throttling, InternalFailure, a failed call) is
 * retried with jittered backoff on ferry's clock; what still cannot be sent is logged with the
 * deployment id, and the deployment carries on.
 */
import type { FerryEvent, RefusedEvent } from '../aws/eventbridge.js';
import { type BackoffPolicy, computeBackoffDelay } from '../core/backoff.js';
import { describeError, isTransient } from '../core/errors.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';

export const DEPLOYMENT_DETAIL_TYPE = 'ferry deployment state change';

/** The EventBridge client makes one attempt per call (create-runtime.ts): these are all the attempts. */
export const NOTIFY_BACKOFF: BackoffPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 2_000 };

/** Whose notifications these are: named in the log line when one is lost. */
export interface NotificationScope {
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  /** The ledger entry id of an all-at-once deployment, or the shift id. */
  readonly deploymentId: string;
}

/** Publishes the events; true when every one was accepted. Never throws. */
export async function publishNotifications(
  runtime: Pick<Runtime, 'events' | 'sleep' | 'random'>,
  log: DeployLog,
  scope: NotificationScope,
  details: readonly Readonly<Record<string, unknown>>[],
  policy: BackoffPolicy = NOTIFY_BACKOFF,
): Promise<boolean> {
  let pending: readonly FerryEvent[] = details.map((detail) => ({ detailType: DEPLOYMENT_DETAIL_TYPE, detail }));
  let allSent = true;
  const report = (events: readonly FerryEvent[], reason: string) => {
    log.warn('notification not sent', {
      ...scope,
      states: events.map((e) => e.detail.state),
      reason,
    });
    allSent = false;
  };
  for (let attempt = 1; pending.length > 0; attempt++) {
    let refused: readonly RefusedEvent[];
    try {
      refused = await runtime.events.publish(pending);
    } catch (error) {
      if (!isTransient(error) || attempt >= policy.maxAttempts) {
        report(pending, `${describeError(error)}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`);
        return false;
      }
      await runtime.sleep(computeBackoffDelay(attempt, policy, runtime.random));
      continue;
    }
    const permanent = refused.filter((r) => !r.retryable);
    if (permanent.length > 0) {
      report(
        permanent.map((r) => r.event),
        `EventBridge refused them: ${permanent.map((r) => `${r.code}: ${r.message}`).join('; ')}`,
      );
    }
    const retry = refused.filter((r) => r.retryable);
    if (retry.length > 0 && attempt >= policy.maxAttempts) {
      report(
        retry.map((r) => r.event),
        `EventBridge still refused them after ${attempt} attempts: ${retry.map((r) => `${r.code}: ${r.message}`).join('; ')}`,
      );
      return false;
    }
    pending = retry.map((r) => r.event);
    if (pending.length > 0) await runtime.sleep(computeBackoffDelay(attempt, policy, runtime.random));
  }
  return allSent;
}
