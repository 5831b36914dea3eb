/**
 * The CodePipeline invoke action, as plain data: the job event, its `UserParameters`, the targets
 * they select, the build id, the continuation token that carries a job across invocations, and
 * what a thrown error means for the job's failure report. No AWS SDK here.
 *
 * The event carries the pipeline's temporary artifact credentials: nothing in this file logs it,
 * and no error message built here quotes it.
 */
import { createHash } from 'node:crypto';
// zod/mini, as the configuration uses: the token is parsed by a schema, never by casts.
import * as z from 'zod/mini';
import { APP_NAME, BUILD_ID } from './artifact-key.js';
import type { AppConfig, FerryConfig, Target } from './config.js';
import { ConfigurationError, ErrorKind, type FerryError, InputError, InternalError, isFerryError } from './errors.js';
import { didYouMean } from './suggest.js';

export interface ArtifactCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface PipelineInputArtifact {
  readonly name: string;
  readonly bucket: string;
  readonly key: string;
}

export interface PipelineJob {
  readonly jobId: string;
  readonly accountId: string;
  readonly userParameters?: string;
  readonly inputArtifacts: readonly PipelineInputArtifact[];
  readonly artifactCredentials: ArtifactCredentials;
  /** The artifact store's KMS key. GetObject on SSE-KMS objects needs no extra parameter; kept for completeness. */
  readonly encryptionKey?: { readonly id: string; readonly type: string };
  readonly continuationToken?: string;
  /** Only when the event carries `pipelineContext` (not documented for the Lambda invoke action). */
  readonly executionId?: string;
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The job id, if the event has a usable one: without it no result can be reported. */
export function readJobId(event: unknown): string | undefined {
  const id = field(field(event, 'CodePipeline.job'), 'id');
  return typeof id === 'string' && JOB_ID.test(id) ? id : undefined;
}

/** Parses a `{"CodePipeline.job": …}` event; throws InputError naming the missing part (never its values). */
export function parsePipelineJob(event: unknown): PipelineJob {
  const job = field(event, 'CodePipeline.job');
  const jobId = readJobId(event);
  const problems: string[] = [];
  if (!jobId) problems.push("'CodePipeline.job'.id: expected a job id (UUID)");
  const accountId = field(job, 'accountId');
  const data = field(job, 'data');
  const configuration = field(field(data, 'actionConfiguration'), 'configuration');
  const userParameters = field(configuration, 'UserParameters');
  if (userParameters !== undefined && typeof userParameters !== 'string') {
    problems.push('data.actionConfiguration.configuration.UserParameters: expected a string');
  }
  const credentials = field(data, 'artifactCredentials');
  const accessKeyId = field(credentials, 'accessKeyId');
  const secretAccessKey = field(credentials, 'secretAccessKey');
  const sessionToken = field(credentials, 'sessionToken');
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || typeof sessionToken !== 'string') {
    problems.push('data.artifactCredentials: expected accessKeyId, secretAccessKey and sessionToken');
  }
  const rawArtifacts = field(data, 'inputArtifacts') ?? [];
  const inputArtifacts: PipelineInputArtifact[] = [];
  if (!Array.isArray(rawArtifacts)) problems.push('data.inputArtifacts: expected a list');
  else {
    rawArtifacts.forEach((artifact: unknown, i) => {
      const s3 = field(field(artifact, 'location'), 's3Location');
      const bucket = field(s3, 'bucketName');
      const key = field(s3, 'objectKey');
      const name = field(artifact, 'name');
      if (typeof bucket !== 'string' || typeof key !== 'string' || bucket === '' || key === '') {
        problems.push(`data.inputArtifacts[${i}].location.s3Location: expected bucketName and objectKey`);
        return;
      }
      inputArtifacts.push({ name: typeof name === 'string' ? name : `input-${i + 1}`, bucket, key });
    });
  }
  const token = field(data, 'continuationToken');
  const key = field(data, 'encryptionKey');
  const keyId = field(key, 'id');
  const executionId = field(field(data, 'pipelineContext'), 'pipelineExecutionId');
  if (problems.length > 0 || !jobId) {
    throw new InputError('PIPELINE_EVENT_INVALID', `The CodePipeline job event is malformed: ${problems.join('; ')}.`, {
      context: { jobId },
    });
  }
  return {
    jobId,
    accountId: typeof accountId === 'string' ? accountId : '',
    ...(typeof userParameters === 'string' ? { userParameters } : {}),
    inputArtifacts,
    artifactCredentials: {
      accessKeyId: accessKeyId as string,
      secretAccessKey: secretAccessKey as string,
      sessionToken: sessionToken as string,
    },
    ...(typeof keyId === 'string' ? { encryptionKey: { id: keyId, type: String(field(key, 'type') ?? 'KMS') } } : {}),
    ...(typeof token === 'string' && token !== '' ? { continuationToken: token } : {}),
    ...(typeof executionId === 'string' && executionId !== '' ? { executionId } : {}),
  };
}

export interface PipelineParameters {
  readonly app: string;
  readonly stage: string;
  /** Target ids (`<account>/<region>/<function>:<alias>`) or function names; all of the stage's targets when absent. */
  readonly targets?: readonly string[];
  /** The function zip's path inside the input artifact; the input artifact is the function zip when absent. */
  readonly path?: string;
  readonly build?: string;
  /** `#{codepipeline.PipelineExecutionId}`: links the ledger to the pipeline run and names a derived build. */
  readonly executionId?: string;
}

export const EXPECTED_PARAMETERS =
  '{"app": "<app>", "stage": "<stage>", "targets": ["<target id or function name>", …] (optional), ' +
  '"path": "<path of the function zip inside the input artifact>" (optional), "build": "<build id>" (optional), ' +
  '"executionId": "#{codepipeline.PipelineExecutionId}" (optional)}';

const PARAMETER_KEYS = new Set(['app', 'stage', 'targets', 'path', 'build', 'executionId']);

/** Parses UserParameters; throws ConfigurationError listing every problem and the expected form. */
export function parseUserParameters(text: string | undefined): PipelineParameters {
  const fail = (problem: string): never => {
    throw new ConfigurationError(
      'PIPELINE_PARAMETERS_INVALID',
      `UserParameters ${problem}. Expected JSON of the form ${EXPECTED_PARAMETERS}.`,
    );
  };
  if (text === undefined || text.trim() === '') return fail('are missing');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail('are not valid JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail('are not a JSON object');
  const value = raw as Record<string, unknown>;
  const problems: string[] = [];
  const unknown = Object.keys(value).filter((k) => !PARAMETER_KEYS.has(k));
  if (unknown.length > 0) problems.push(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(quote).join(', ')}`);
  const { app, stage, targets, path, build, executionId } = value;
  if (typeof app !== 'string' || !APP_NAME.test(app)) problems.push(`"app" must be an app name (${APP_NAME.source})`);
  if (typeof stage !== 'string' || stage === '') problems.push('"stage" must be a stage name');
  if (targets !== undefined) {
    const ok = Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string' && t !== '');
    if (!ok) problems.push('"targets" must be a non-empty list of target ids or function names');
  }
  if (path !== undefined && !(typeof path === 'string' && isSafeRelativePath(path))) {
    problems.push('"path" must be a relative path inside the input artifact, without ".."');
  }
  if (build !== undefined && !(typeof build === 'string' && BUILD_ID.test(build))) {
    problems.push(`"build" must be a build id (${BUILD_ID.source})`);
  }
  if (executionId !== undefined && !(typeof executionId === 'string' && /^[\w.-]{1,128}$/.test(executionId))) {
    problems.push('"executionId" must be the pipeline execution id (#{codepipeline.PipelineExecutionId})');
  }
  if (problems.length > 0) fail(`are invalid: ${problems.join('; ')}`);
  return {
    app: app as string,
    stage: stage as string,
    ...(targets === undefined ? {} : { targets: [...new Set(targets as string[])] }),
    ...(path === undefined ? {} : { path: normalizeEntryPath(path as string) }),
    ...(build === undefined ? {} : { build: build as string }),
    ...(executionId === undefined ? {} : { executionId: executionId as string }),
  };
}

/** Zip entry names use '/', never start with one, and never climb out. */
function isSafeRelativePath(path: string): boolean {
  const normalized = normalizeEntryPath(path);
  return normalized !== '' && !normalized.endsWith('/') && !normalized.split('/').includes('..') && !/\\/.test(path);
}

export function normalizeEntryPath(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

export interface PipelineSelection {
  readonly app: AppConfig;
  readonly stage: string;
  /** The stage's targets the job deploys, in configuration order. */
  readonly targets: readonly Target[];
}

/** Resolves app, stage and target filter against the configuration; ConfigurationError names what is known. */
export function selectPipelineTargets(config: FerryConfig, params: PipelineParameters): PipelineSelection {
  const app = config.apps[params.app];
  if (!app) {
    throw new ConfigurationError(
      'UNKNOWN_APP',
      `No app '${params.app}' is configured.${didYouMean(params.app, Object.keys(config.apps))} Known apps: ${Object.keys(config.apps).join(', ') || 'none'}. Fix "app" in UserParameters or add the app to ferry's configuration.`,
      { context: { app: params.app } },
    );
  }
  if (!config.stages.some((s) => s.name === params.stage)) {
    throw new ConfigurationError(
      'UNKNOWN_STAGE',
      `No stage '${params.stage}'.${didYouMean(
        params.stage,
        config.stages.map((s) => s.name),
      )} Stages: ${config.stages.map((s) => s.name).join(', ')}. Fix "stage" in UserParameters.`,
      { context: { app: app.name, stage: params.stage } },
    );
  }
  const inStage = app.targets[params.stage] ?? [];
  if (inStage.length === 0) {
    throw new ConfigurationError(
      'NO_TARGETS',
      `App '${app.name}' has no targets in stage '${params.stage}'. Stages with targets: ${Object.keys(app.targets).join(', ') || 'none'}.`,
      { context: { app: app.name, stage: params.stage } },
    );
  }
  if (!params.targets) return { app, stage: params.stage, targets: inStage };
  const unmatched = params.targets.filter((f) => !inStage.some((t) => matchesFilter(t, f)));
  if (unmatched.length > 0) {
    throw new ConfigurationError(
      'UNKNOWN_TARGETS',
      `"targets" names ${unmatched.map(quote).join(', ')}, which match no target of app '${app.name}' in stage '${params.stage}'. Its targets: ${inStage.map((t) => t.id).join(', ')} (give a target id or a function name).`,
      { context: { app: app.name, stage: params.stage } },
    );
  }
  const filters = params.targets;
  return { app, stage: params.stage, targets: inStage.filter((t) => filters.some((f) => matchesFilter(t, f))) };
}

function matchesFilter(target: Target, filter: string): boolean {
  return target.id === filter || target.functionName === filter;
}

/**
 * A build id for a job whose UserParameters name none: the UTC time the job started and the
 * execution id's first characters (`20261122T101500-1a2b3c4d`), so that later runs sort after
 * earlier ones under ferry's natural build order.
 */
export function deriveBuildId(startedAt: Date, executionId: string): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  const id = executionId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  return id ? `${stamp}-${id}` : stamp;
}

/** A target finished in an earlier invocation of the same job. */
export interface FinishedTarget {
  /** Index into the selection's targets. */
  readonly index: number;
  readonly status: 'deployed' | 'unchanged';
  readonly version: string;
  readonly previousVersion?: string;
}

/** Everything the next invocation needs to resume without redoing work. */
export interface ContinuationState {
  readonly build: string;
  readonly codeSha256: string;
  /** The pinned object version in ferry's bucket (the key follows from app and build). */
  readonly versionId?: string;
  readonly sizeBytes: number;
  /** Ties the token to the selected targets: a changed configuration or filter fails clearly. */
  readonly fingerprint: string;
  /** The pipeline execution id, or the first job's id when the execution id is unknown. */
  readonly executionId: string;
  readonly done: readonly FinishedTarget[];
}

/** CodePipeline API Reference, PutJobSuccessResult: continuationToken is 1–2048 characters. */
export const CONTINUATION_TOKEN_MAX = 2048;
const TOKEN_PREFIX = 'ferry1.';

/** A short digest of the selected target ids. */
export function fingerprintTargets(targets: readonly Target[]): string {
  return digest(targets.map((t) => t.id).join('\n')).slice(0, 12);
}

/** `ferry1.<base64url JSON>.<digest>`; throws InternalError when it would not fit in 2048 characters. */
export function encodeContinuationToken(state: ContinuationState): string {
  const compact = {
    b: state.build,
    c: state.codeSha256,
    ...(state.versionId ? { o: state.versionId } : {}),
    n: state.sizeBytes,
    f: state.fingerprint,
    e: state.executionId,
    d: state.done.map((t) => [t.index, t.status === 'deployed' ? 1 : 0, t.version, t.previousVersion ?? '']),
  };
  const payload = Buffer.from(JSON.stringify(compact), 'utf8').toString('base64url');
  const token = `${TOKEN_PREFIX}${payload}.${digest(payload).slice(0, 16)}`;
  if (token.length > CONTINUATION_TOKEN_MAX) {
    throw new InternalError(
      'PIPELINE_TOKEN_TOO_LARGE',
      `The continuation token for ${state.done.length} finished targets is ${token.length} characters, above CodePipeline's ${CONTINUATION_TOKEN_MAX}. Split the targets over several actions with "targets" in UserParameters.`,
    );
  }
  return token;
}

/** Decodes a token this code wrote; anything else (garbled, altered, another version) is an InputError. */
export function decodeContinuationToken(token: string): ContinuationState {
  const invalid = (why: string): never => {
    throw new InputError(
      'PIPELINE_TOKEN_INVALID',
      `The continuation token is not one this version of ferry wrote (${why}). Retry the pipeline action: a new run starts without a token.`,
    );
  };
  if (token.length > CONTINUATION_TOKEN_MAX) return invalid('too long');
  if (!token.startsWith(TOKEN_PREFIX)) return invalid('unknown format or version');
  const [payload, check, ...rest] = token.slice(TOKEN_PREFIX.length).split('.');
  if (!payload || !check || rest.length > 0) return invalid('malformed');
  if (digest(payload).slice(0, 16) !== check) return invalid('checksum mismatch');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return invalid('not JSON');
  }
  const parsed = TOKEN_SCHEMA.safeParse(raw);
  if (!parsed.success) return invalid(`bad field ${describeTokenIssue(parsed.error.issues[0])}`);
  const { b, c, o, n, f, e, d } = parsed.data;
  const indexes = d.map(([index]) => index);
  if (new Set(indexes).size !== indexes.length) return invalid('a target listed twice');
  return {
    build: b,
    codeSha256: c,
    ...(o === undefined ? {} : { versionId: o }),
    sizeBytes: n,
    fingerprint: f,
    executionId: e,
    done: d.map(([index, deployed, version, previous]) => ({
      index,
      status: deployed === 1 ? 'deployed' : 'unchanged',
      version,
      ...(previous ? { previousVersion: previous } : {}),
    })),
  };
}

/** Published version numbers; `none` when a target reported none (the live check then finds drift). */
const VERSION = /^[1-9][0-9]{0,9}$/;
const NONE_VERSION = 'none';

/**
 * The token's compact JSON. It carries no facts ferry trusts: the pinned object is re-read, and
 * every finished target's alias is read live before success is reported (runPipelineJob).
 */
const TOKEN_SCHEMA = z.strictObject({
  b: z.string().check(z.regex(BUILD_ID)),
  c: z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/)),
  o: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  n: z.int().check(z.minimum(0)),
  f: z.string().check(z.regex(/^[A-Za-z0-9_-]{12}$/)),
  e: z.string().check(z.regex(/^[\w.-]{1,128}$/)),
  d: z.array(
    z.tuple([
      z.int().check(z.minimum(0)),
      z.union([z.literal(0), z.literal(1)]),
      z.union([z.literal(NONE_VERSION), z.string().check(z.regex(VERSION))]),
      z.union([z.literal(''), z.string().check(z.regex(VERSION))]),
    ]),
  ),
});

function describeTokenIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return '(unknown)';
  return issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
}

/** The FailureDetails types ferry uses (CodePipeline API Reference, FailureDetails.type). */
export const PipelineFailureType = {
  JobFailed: 'JobFailed',
  ConfigurationError: 'ConfigurationError',
  PermissionError: 'PermissionError',
} as const;
export type PipelineFailureType = (typeof PipelineFailureType)[keyof typeof PipelineFailureType];

/** What a thrown error means for the job: configuration and input problems are the pipeline's to fix. */
export function classifyFailure(error: unknown): PipelineFailureType {
  if (!isFerryError(error)) return PipelineFailureType.JobFailed;
  const kind = (error as FerryError).kind;
  if (kind === ErrorKind.Configuration || kind === ErrorKind.Input) return PipelineFailureType.ConfigurationError;
  if (kind === ErrorKind.Access) return PipelineFailureType.PermissionError;
  return PipelineFailureType.JobFailed;
}

/** Cuts text to `max` characters, saying so at the end. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = ' … (truncated)';
  return `${text.slice(0, Math.max(0, max - marker.length))}${marker}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
}

function quote(text: string): string {
  return `'${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`;
}
