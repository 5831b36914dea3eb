/**
 * Wraps a LambdaPort so each call Lambda answers with a transient error (an update in progress,
 * throttling, 5xx) is retried in place with jittered backoff (retry.ts); permanent errors pass
 * through at once. Applied once where the port is built (create-runtime.ts), outside the pacing
 * decorator so that every attempt takes a token from the account's budget, and engine code calls
 * the port plainly. The Lambda clients make a single attempt each, so these are the only retries.
 */
import type { LambdaPort } from '../aws/lambda.js';
import type { BackoffPolicy } from '../core/backoff.js';
import { type RetryDeps, retryTransient } from './retry.js';

export function retryLambdaPort(port: LambdaPort, policy: BackoffPolicy, deps: RetryDeps): LambdaPort {
  const retry = <T>(call: () => Promise<T>): Promise<T> => retryTransient(call, policy, deps);
  return {
    getFunctionConfiguration: (name, qualifier) => retry(() => port.getFunctionConfiguration(name, qualifier)),
    getAlias: (name, alias) => retry(() => port.getAlias(name, alias)),
    listVersions: (name) => retry(() => port.listVersions(name)),
    updateFunctionCode: (input) => retry(() => port.updateFunctionCode(input)),
    publishVersion: (input) => retry(() => port.publishVersion(input)),
    createAlias: (input) => retry(() => port.createAlias(input)),
    updateAlias: (input) => retry(() => port.updateAlias(input)),
    listAliases: (name) => retry(() => port.listAliases(name)),
    deleteVersion: (name, version) => retry(() => port.deleteVersion(name, version)),
    // A hook's Invoke may have run before its error reached us: it is called once, as the gate decides.
    invoke: (input) => port.invoke(input),
  };
}
