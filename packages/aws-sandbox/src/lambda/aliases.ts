/**
 * Aliases and their routing rules: an alias names one published version (or $LATEST) and may
 * send a weighted share of calls to one more published version.
 */
import { randomUUID } from 'node:crypto';
import { qualifiedArn } from './arns.js';
import { aliasNotFound, functionNotFound, invalidParameter, resourceConflict, validationError } from './errors.js';
import { type AliasRecord, assertRevision, type FunctionRecord, getVersion, LATEST } from './function-store.js';

const aliasNamePattern = /^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/;

export interface AliasInput {
  readonly functionVersion: string | undefined;
  readonly description: string | undefined;
  readonly routing: Record<string, number> | undefined;
  readonly revisionId: string | undefined;
}

export function aliasArn(record: FunctionRecord, name: string): string {
  return qualifiedArn(record.region, record.accountId, record.name, name);
}

export function getAlias(record: FunctionRecord, name: string): AliasRecord {
  const alias = record.aliases.get(name);
  if (!alias) throw aliasNotFound(aliasArn(record, name));
  return alias;
}

/**
 * An alias named as a Qualifier (GetFunction, Invoke…): a missing one reads as a missing
 * function version, qualified ARN included, rather than as GetAlias's "Alias not found".
 */
export function getQualifierAlias(record: FunctionRecord, name: string): AliasRecord {
  const alias = record.aliases.get(name);
  if (!alias) throw functionNotFound(aliasArn(record, name));
  return alias;
}

export function createAlias(record: FunctionRecord, name: string, input: AliasInput): AliasRecord {
  if (!aliasNamePattern.test(name) || name === LATEST) {
    throw validationError(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`,
    );
  }
  if (record.aliases.has(name)) throw resourceConflict(`Alias already exists: ${aliasArn(record, name)}`);
  if (input.functionVersion === undefined) throw invalidParameter('FunctionVersion is required.');
  const routing = input.routing ?? {};
  validateAliasTarget(record, input.functionVersion, routing);
  const alias: AliasRecord = {
    name,
    functionVersion: input.functionVersion,
    description: input.description ?? '',
    routing: { ...routing },
    revisionId: randomUUID(),
  };
  record.aliases.set(name, alias);
  return alias;
}

/** UpdateAlias: omitted fields keep their value; a RoutingConfig given replaces the old one. */
export function updateAlias(record: FunctionRecord, name: string, input: AliasInput): AliasRecord {
  const alias = getAlias(record, name);
  assertRevision(alias.revisionId, input.revisionId, 'alias');
  const functionVersion = input.functionVersion ?? alias.functionVersion;
  const routing = input.routing ?? alias.routing;
  validateAliasTarget(record, functionVersion, routing);
  alias.functionVersion = functionVersion;
  alias.routing = { ...routing };
  alias.routingCount = undefined;
  if (input.description !== undefined) alias.description = input.description;
  alias.revisionId = randomUUID();
  return alias;
}

export function deleteAlias(record: FunctionRecord, name: string): void {
  getAlias(record, name);
  record.aliases.delete(name);
}

/**
 * The alias rules from the AliasRoutingConfiguration reference and the traffic-shifting guide:
 * at most one additional version, weights within 0.0..1.0, both versions published (so not
 * $LATEST), the additional version different from the primary, sharing the execution role.
 */
export function validateAliasTarget(
  record: FunctionRecord,
  functionVersion: string,
  routing: Record<string, number>,
): void {
  const extra = Object.entries(routing);
  if (functionVersion !== LATEST) getVersion(record, functionVersion);
  if (extra.length === 0) return;
  if (extra.length > 1) {
    throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
  }
  const [version, weight] = extra[0] as [string, number];
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw validationError(
      `1 validation error detected: Value '{${version}=${String(weight)}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`,
    );
  }
  if (functionVersion === LATEST || version === LATEST || !/^\d+$/.test(version)) {
    throw invalidParameter(`$LATEST is not supported for an alias pointing to more than 1 version`);
  }
  if (version === functionVersion) {
    throw invalidParameter(
      `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
    );
  }
  const primary = getVersion(record, functionVersion);
  const additional = getVersion(record, version);
  // Weighted alias guide: both versions need the same execution role and dead-letter queue config.
  if (primary.config.role !== additional.config.role) {
    throw invalidParameter('Specified versions must be associated with the same execution role');
  }
  if ((primary.config.deadLetterTargetArn || '') !== (additional.config.deadLetterTargetArn || '')) {
    throw invalidParameter('Specified versions must be associated with the same dead-letter queue configuration');
  }
}

/** How a weighted alias picks: independently at random (AWS), or evenly and deterministically. */
export interface RoutingChoice {
  readonly mode: 'random' | 'even';
  readonly random: () => number;
}

/**
 * Weighted routing: with `random`, the additional version serves a call with probability equal to
 * its weight; with `even`, it serves the n-th call when round(n × weight) grows, so after n calls
 * it has served exactly round(n × weight) of them.
 */
export function pickAliasVersion(alias: AliasRecord, choice: RoutingChoice): string {
  const [extra] = Object.entries(alias.routing);
  if (!extra) return alias.functionVersion;
  const [version, weight] = extra;
  if (choice.mode === 'random') return choice.random() < weight ? version : alias.functionVersion;
  const count = alias.routingCount ?? { calls: 0, additional: 0 };
  count.calls += 1;
  const served = Math.round(count.calls * weight) > count.additional;
  if (served) count.additional += 1;
  alias.routingCount = count;
  return served ? version : alias.functionVersion;
}
