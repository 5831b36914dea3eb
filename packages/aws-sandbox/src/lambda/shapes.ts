/**
 * Function records rendered in the Lambda API's JSON shapes (FunctionConfiguration,
 * AliasConfiguration), as the REST-JSON responses carry them.
 */

import { aliasArn } from './aliases.js';
import { qualifiedArn } from './arns.js';
import { type AliasRecord, type FunctionRecord, LATEST, type VersionRecord } from './function-store.js';

export type Json = Record<string, unknown>;

/** Lambda's LastModified format: ISO 8601 with milliseconds and a `+0000` offset. */
export function formatLastModified(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** $LATEST's configuration, as GetFunctionConfiguration and UpdateFunctionCode return it. */
export function renderLatest(record: FunctionRecord): Json {
  const { latest } = record;
  return {
    ...renderCommon(record, latest.config, latest.code),
    FunctionArn: record.arn,
    Version: LATEST,
    LastModified: formatLastModified(latest.lastModified),
    RevisionId: latest.revisionId,
    LastUpdateStatus: latest.status,
    ...(latest.statusReason === undefined ? {} : { LastUpdateStatusReason: latest.statusReason }),
    ...(latest.statusReasonCode === undefined ? {} : { LastUpdateStatusReasonCode: latest.statusReasonCode }),
  };
}

/** A published version's configuration; `arnQualifier` is the alias name when reached through one. */
export function renderVersion(record: FunctionRecord, version: VersionRecord, arnQualifier = version.version): Json {
  return {
    ...renderCommon(record, version.config, version.code),
    FunctionArn: qualifiedArn(record.region, record.accountId, record.name, arnQualifier),
    Version: version.version,
    LastModified: formatLastModified(version.lastModified),
    RevisionId: version.revisionId,
    LastUpdateStatus: 'Successful',
  };
}

export function renderAlias(record: FunctionRecord, alias: AliasRecord): Json {
  const weights = Object.keys(alias.routing).length > 0;
  return {
    AliasArn: aliasArn(record, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(weights ? { RoutingConfig: { AdditionalVersionWeights: { ...alias.routing } } } : {}),
    RevisionId: alias.revisionId,
  };
}

/** GetFunction's Code block. The location is AWS-shaped; the sandbox does not serve it. */
export function renderCodeLocation(record: FunctionRecord, sha256: string): Json {
  const digest = Buffer.from(sha256, 'base64').toString('hex');
  return {
    RepositoryType: 'S3',
    Location: `https://awslambda-${record.region}-tasks.s3.${record.region}.amazonaws.com/snapshots/${record.accountId}/${record.name}-${digest}`,
  };
}

function renderCommon(record: FunctionRecord, config: VersionRecord['config'], code: VersionRecord['code']): Json {
  const variables = Object.keys(config.environment).length > 0;
  return {
    FunctionName: record.name,
    Runtime: config.runtime,
    Role: config.role,
    Handler: config.handler,
    CodeSize: code.size,
    Description: config.description,
    Timeout: config.timeout,
    MemorySize: config.memorySize,
    CodeSha256: code.sha256,
    ...(variables ? { Environment: { Variables: { ...config.environment } } } : {}),
    ...(config.deadLetterTargetArn ? { DeadLetterConfig: { TargetArn: config.deadLetterTargetArn } } : {}),
    TracingConfig: { Mode: 'PassThrough' },
    State: 'Active',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${record.name}` },
  };
}
