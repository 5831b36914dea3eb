/**
 * The Lambda sandbox's state machine: function records per account and Region, and the
 * transitions Lambda documents for them. Operations here know nothing of HTTP; they take the
 * current time as an argument, so an asynchronous update is settled on read rather than by timers.
 */
import { randomUUID } from 'node:crypto';
import type { LambdaSettings } from '../contracts.js';
import { functionArn, qualifiedArn } from './arns.js';
import {
  codeStorageExceeded,
  functionNotFound,
  invalidParameter,
  resourceConflict,
  revisionMismatch,
  updateInProgress,
} from './errors.js';

export const LATEST = '$LATEST';

/** Lambda quotas page: 75 GB of code storage per Region. */
export const CODE_STORAGE_LIMIT_BYTES = 75 * 1024 ** 3;

export interface CodeBlob {
  readonly zip: Buffer;
  readonly sha256: string;
  readonly size: number;
}

export interface FunctionConfig {
  readonly runtime: string;
  readonly handler: string;
  readonly role: string;
  readonly description: string;
  readonly timeout: number;
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
  /** DeadLetterConfig.TargetArn; undefined or '' when the function has none. */
  readonly deadLetterTargetArn?: string;
}

/** A published version: an immutable snapshot of $LATEST's code and configuration. */
export interface VersionRecord {
  readonly version: string;
  readonly code: CodeBlob;
  readonly config: FunctionConfig;
  readonly revisionId: string;
  readonly lastModified: number;
}

export type UpdateStatus = 'InProgress' | 'Successful' | 'Failed';

interface PendingUpdate {
  readonly completesAt: number;
  readonly outcome: 'Successful' | 'Failed';
  readonly failureReason: string;
  /** What keeps serving while InProgress, and what comes back if the update fails. */
  readonly previous: { readonly code: CodeBlob; readonly config: FunctionConfig };
}

export interface LatestRecord {
  code: CodeBlob;
  config: FunctionConfig;
  revisionId: string;
  lastModified: number;
  status: UpdateStatus;
  statusReason: string | undefined;
  statusReasonCode: string | undefined;
  pending: PendingUpdate | undefined;
}

export interface AliasRecord {
  readonly name: string;
  functionVersion: string;
  description: string;
  routing: Record<string, number>;
  revisionId: string;
  /** Calls through this routing so far and how many the additional version served (`even` routing). */
  routingCount?: { calls: number; additional: number };
}

export interface FunctionRecord {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly arn: string;
  readonly latest: LatestRecord;
  readonly versions: Map<string, VersionRecord>;
  readonly aliases: Map<string, AliasRecord>;
  readonly tags: Record<string, string>;
  /** Version numbers are never reused, even after a version is deleted. */
  nextVersion: number;
}

// ---- the registry ----

export interface FunctionStore {
  find(accountId: string, region: string, name: string): FunctionRecord | undefined;
  add(record: FunctionRecord): void;
  remove(record: FunctionRecord): void;
  list(accountId: string, region: string): FunctionRecord[];
}

export function createFunctionStore(): FunctionStore {
  const byScope = new Map<string, Map<string, FunctionRecord>>();
  const scope = (accountId: string, region: string): Map<string, FunctionRecord> => {
    const key = `${accountId}/${region}`;
    let functions = byScope.get(key);
    if (!functions) {
      functions = new Map();
      byScope.set(key, functions);
    }
    return functions;
  };
  return {
    find: (accountId, region, name) => scope(accountId, region).get(name),
    add: (record) => {
      scope(record.accountId, record.region).set(record.name, record);
    },
    remove: (record) => {
      scope(record.accountId, record.region).delete(record.name);
    },
    list: (accountId, region) => [...scope(accountId, region).values()],
  };
}

/** Looks a function up, settling any update whose delay has elapsed, or throws ResourceNotFound. */
export function getFunction(
  store: FunctionStore,
  accountId: string,
  region: string,
  name: string,
  now: number,
): FunctionRecord {
  const record = store.find(accountId, region, name);
  if (!record) throw functionNotFound(functionArn(region, accountId, name));
  settleUpdate(record, now);
  return record;
}

// ---- creation ----

export interface NewFunction {
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
  readonly code: CodeBlob;
  readonly config: FunctionConfig;
  readonly tags: Record<string, string>;
}

export function createFunctionRecord(store: FunctionStore, input: NewFunction, now: number): FunctionRecord {
  if (store.find(input.accountId, input.region, input.name)) {
    throw resourceConflict(`Function already exist: ${input.name}`);
  }
  assertStorageFor(store, input.accountId, input.region, input.code.size);
  const record: FunctionRecord = {
    name: input.name,
    accountId: input.accountId,
    region: input.region,
    arn: functionArn(input.region, input.accountId, input.name),
    latest: {
      code: input.code,
      config: input.config,
      revisionId: randomUUID(),
      lastModified: now,
      status: 'Successful',
      statusReason: undefined,
      statusReasonCode: undefined,
      pending: undefined,
    },
    versions: new Map(),
    aliases: new Map(),
    tags: { ...input.tags },
    nextVersion: 1,
  };
  store.add(record);
  return record;
}

// ---- asynchronous updates ----

/**
 * Finishes an update whose delay has elapsed. A successful update keeps the new code; a failed
 * one restores the previous code and configuration ("Lambda function states": the update is
 * aborted and the previous code and configuration remain available). Either way the RevisionId
 * changes again, as it does on AWS when the asynchronous part of an update completes.
 */
export function settleUpdate(record: FunctionRecord, now: number): void {
  const { latest } = record;
  const pending = latest.pending;
  if (!pending || now < pending.completesAt) return;
  latest.pending = undefined;
  latest.revisionId = randomUUID();
  latest.status = pending.outcome;
  latest.statusReason = undefined;
  latest.statusReasonCode = undefined;
  if (pending.outcome === 'Failed') {
    latest.code = pending.previous.code;
    latest.config = pending.previous.config;
    latest.statusReason = pending.failureReason;
    latest.statusReasonCode = 'InternalError';
  }
}

/** Any update on a function whose last update is still InProgress fails with ResourceConflictException. */
export function assertNotUpdating(record: FunctionRecord): void {
  if (record.latest.status === 'InProgress') throw updateInProgress(record.arn);
}

export function assertRevision(current: string, given: string | undefined, kind: 'function' | 'alias'): void {
  if (given !== undefined && given !== current) throw revisionMismatch(kind);
}

export interface UpdateOptions {
  readonly now: number;
  readonly settings: LambdaSettings;
}

/** Starts a code update: $LATEST shows the new code at once and is InProgress until the delay elapses. */
export function startCodeUpdate(
  record: FunctionRecord,
  code: CodeBlob,
  options: UpdateOptions,
): 'Successful' | 'Failed' {
  const outcome = takeOutcome(options.settings);
  beginUpdate(record, { code, config: record.latest.config }, outcome, options);
  return outcome;
}

/** Starts a configuration update; the fault setting only fails code updates. */
export function startConfigUpdate(
  record: FunctionRecord,
  patch: Partial<FunctionConfig>,
  options: UpdateOptions,
): void {
  const config = { ...record.latest.config, ...definedOnly(patch) };
  beginUpdate(record, { code: record.latest.code, config }, 'Successful', options);
}

function beginUpdate(
  record: FunctionRecord,
  next: { code: CodeBlob; config: FunctionConfig },
  outcome: 'Successful' | 'Failed',
  { now, settings }: UpdateOptions,
): void {
  const { latest } = record;
  latest.pending = {
    completesAt: now + Math.max(0, settings.updateDelayMs),
    outcome,
    failureReason: settings.failureReason,
    previous: { code: latest.code, config: latest.config },
  };
  latest.code = next.code;
  latest.config = next.config;
  latest.revisionId = randomUUID();
  latest.lastModified = now;
  latest.status = 'InProgress';
  // What GetFunction shows while an update runs (functions-states page example).
  latest.statusReason = 'The function is being created.';
  latest.statusReasonCode = 'Creating';
}

/** Decides a code update's fate up front, counting the fault setting down by one. */
function takeOutcome(settings: LambdaSettings): 'Successful' | 'Failed' {
  if (settings.failNextUpdates > 0) {
    settings.failNextUpdates -= 1;
    return 'Failed';
  }
  return 'Successful';
}

/** The code that answers invocations of $LATEST: the previous code while an update is InProgress. */
export function servingLatest(record: FunctionRecord): { code: CodeBlob; config: FunctionConfig } {
  const { latest } = record;
  return latest.pending ? latest.pending.previous : { code: latest.code, config: latest.config };
}

// ---- versions ----

export interface PublishInput {
  readonly codeSha256: string | undefined;
  readonly revisionId: string | undefined;
  readonly description: string | undefined;
}

/**
 * PublishVersion: guards on RevisionId (PreconditionFailedException) and CodeSha256
 * (InvalidParameterValueException), refuses while an update is InProgress, and returns the last
 * published version instead of a new one when code and configuration are unchanged since then.
 */
export function publishVersion(
  store: FunctionStore,
  record: FunctionRecord,
  input: PublishInput,
  now: number,
): VersionRecord {
  assertNotUpdating(record);
  assertRevision(record.latest.revisionId, input.revisionId, 'function');
  const { latest } = record;
  if (input.codeSha256 !== undefined && input.codeSha256 !== latest.code.sha256) {
    throw invalidParameter(
      `CodeSHA256 (${input.codeSha256}) is different from current CodeSHA256 in $LATEST (${latest.code.sha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
  }
  const last = lastPublished(record);
  if (last && last.code.sha256 === latest.code.sha256 && sameConfig(last.config, latest.config)) return last;
  assertStorageFor(store, record.accountId, record.region, latest.code.size);
  return snapshotLatest(record, input.description, now);
}

/** Publishes $LATEST unless the last version already holds the same code and configuration. */
export function publishLatest(record: FunctionRecord, description: string | undefined, now: number): VersionRecord {
  const last = lastPublished(record);
  if (last && last.code.sha256 === record.latest.code.sha256 && sameConfig(last.config, record.latest.config))
    return last;
  return snapshotLatest(record, description, now);
}

/** Publishes $LATEST as it stands (UpdateFunctionCode with Publish, seeding). */
export function snapshotLatest(record: FunctionRecord, description: string | undefined, now: number): VersionRecord {
  const { latest } = record;
  const version: VersionRecord = {
    version: String(record.nextVersion),
    code: latest.code,
    config: description === undefined ? latest.config : { ...latest.config, description },
    revisionId: randomUUID(),
    lastModified: now,
  };
  record.nextVersion += 1;
  record.versions.set(version.version, version);
  return version;
}

function lastPublished(record: FunctionRecord): VersionRecord | undefined {
  let last: VersionRecord | undefined;
  for (const version of record.versions.values()) {
    if (!last || Number(version.version) > Number(last.version)) last = version;
  }
  return last;
}

function sameConfig(a: FunctionConfig, b: FunctionConfig): boolean {
  // Description is the version's own label, not part of what a version freezes.
  const { description: _a, ...restA } = a;
  const { description: _b, ...restB } = b;
  return JSON.stringify(sortKeys(restA)) === JSON.stringify(sortKeys(restB));
}

/** Versions in the order ListVersionsByFunction returns them. */
export function sortedVersions(record: FunctionRecord): VersionRecord[] {
  return [...record.versions.values()].sort((a, b) => Number(a.version) - Number(b.version));
}

export function getVersion(record: FunctionRecord, version: string): VersionRecord {
  const found = record.versions.get(version);
  if (!found) throw functionNotFound(qualifiedArn(record.region, record.accountId, record.name, version));
  return found;
}

/** DeleteFunction with a Qualifier: only a published version no alias routes to can go. */
export function deleteVersion(record: FunctionRecord, qualifier: string): void {
  if (qualifier === LATEST) {
    throw invalidParameter('$LATEST version cannot be deleted without deleting the function.');
  }
  if (!/^\d+$/.test(qualifier)) {
    throw invalidParameter('Deletion of aliases is not supported by DeleteFunction. Use DeleteAlias instead.');
  }
  getVersion(record, qualifier);
  const referencing = [...record.aliases.values()]
    .filter((alias) => alias.functionVersion === qualifier || qualifier in alias.routing)
    .map((alias) => alias.name);
  if (referencing.length > 0) {
    throw resourceConflict(
      `Unable to delete version because the following aliases reference it: [${referencing.join(', ')}]`,
    );
  }
  record.versions.delete(qualifier);
}

// ---- storage ----

/** Every version and $LATEST consume code storage (Lambda quotas page). */
export function codeStorageUsed(store: FunctionStore, accountId: string, region: string): number {
  return store
    .list(accountId, region)
    .reduce(
      (sum, record) => sum + record.latest.code.size + sortedVersions(record).reduce((s, v) => s + v.code.size, 0),
      0,
    );
}

/** CodeStorageExceededException when adding `addedBytes` would pass the Region's code storage quota. */
export function assertStorageFor(store: FunctionStore, accountId: string, region: string, addedBytes: number): void {
  if (addedBytes <= 0) return;
  if (codeStorageUsed(store, accountId, region) + addedBytes > CODE_STORAGE_LIMIT_BYTES) throw codeStorageExceeded();
}

// ---- helpers ----

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, inner]) => [key, sortKeys(inner)]),
    );
  }
  return value;
}
