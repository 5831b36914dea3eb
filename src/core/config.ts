/**
 * ferry's configuration model: apps, ordered stages and the targets each stage deploys to.
 * Parsed once per cold start into a frozen, typed object. Every error names the exact field and
 * what was expected; unknown keys are errors, so a typo never silently does nothing.
 *
 * The same object is the `ferry:` section of `variables.<stage>.yml`, which the Serverless
 * Framework feeds to the deployed Lambda as the FERRY_CONFIG environment variable.
 */
// zod/mini: the same validation as zod at a twentieth of the bundle size (cold start).
import * as z from 'zod/mini';
import { APP_NAME } from './artifact-key.js';
import { compileBuildPattern } from './build-pattern.js';
import { ConfigurationError } from './errors.js';
import { LEASE_PREFIX, LEDGER_PREFIX } from './ledger-model.js';
import { suggestName } from './suggest.js';
import { buildTrafficSpec, type TrafficSpec, trafficSchema } from './traffic-config.js';

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Lambda function names: 1–64 of letters, digits, hyphens, underscores. */
const FUNCTION_NAME = /^[a-zA-Z0-9-_]{1,64}$/;
/** Alias names: 1–128, must not be only digits (that would be a version). */
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const STAGE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** STS ExternalId: 2–1224 characters of [\w+=,.@:/-]. */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MB = 1024 * 1024;

/**
 * ferry assumes deploy roles from its Lambda's own role: that is role chaining, which AWS caps at
 * one hour whatever the role's MaxSessionDuration (the shipped deploy role sets 3600 too).
 */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

/**
 * Keys that would name Object.prototype's members (or replace an object's prototype) if they were
 * ever used as plain-object keys. As app or stage keys they are refused, never silently dropped.
 */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Lambda's documented limits; ferry never allows more than these. */
export const LAMBDA_LIMITS = {
  zipFileBytes: 50 * MB,
  unzippedBytes: 250 * MB,
} as const;

const str = (re: RegExp, expected: string) => z.string().check(z.regex(re, expected));
const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

const targetSchema = z.strictObject({
  account: str(ACCOUNT_ID, 'a 12-digit AWS account id, quoted in YAML'),
  region: z.optional(str(REGION, 'an AWS Region such as eu-west-1')),
  function: str(FUNCTION_NAME, 'a Lambda function name (letters, digits, - and _, at most 64)'),
  alias: z.optional(str(ALIAS_NAME, 'an alias name that is not only digits').check(z.maxLength(128))),
  role: z.optional(z.string()),
  externalId: z.optional(str(EXTERNAL_ID, '2–1224 characters of [\\w+=,.@:/-]')),
});

const promotionSchema = z.strictObject({
  from: z.string(),
  to: z.string(),
  minSoakMinutes: z._default(int(0, 525_600), 0),
  weekdays: z.optional(z.array(z.enum(WEEKDAYS)).check(z.minLength(1))),
  hoursUtc: z.optional(
    z
      .strictObject({ from: int(0, 23), to: int(1, 24) })
      .check(z.refine((h) => h.from < h.to, 'from must be before to')),
  ),
  requireNoFailures: z._default(z.boolean(), false),
  /** Overrides the destination stage's traffic settings, field by field, for this promotion. */
  traffic: z.optional(trafficSchema),
});

const appSchema = z.strictObject({
  targets: z.record(z.string(), z.array(targetSchema).check(z.minLength(1))),
  promotions: z._default(z.array(promotionSchema), []),
  keepVersions: z.optional(int(1, 1000)),
  /** A regular expression every build id of the app must match as a whole (core/build-pattern.ts). */
  buildPattern: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  /** Stage name → how the alias moves there (policy, gates, hooks, waves). Default: all at once. */
  traffic: z.optional(z.record(z.string(), trafficSchema)),
});

const stageSchema = z.strictObject({
  name: str(STAGE_NAME, 'lower-case letters, digits and -, at most 32'),
  acceptsUploads: z.optional(z.boolean()),
});

const DEFAULT_LIMITS = {
  maxArtifactBytes: LAMBDA_LIMITS.unzippedBytes,
  maxUnzippedBytes: LAMBDA_LIMITS.unzippedBytes,
  maxEntries: 50_000,
};

const limitsSchema = z.strictObject({
  maxArtifactBytes: z._default(int(1, LAMBDA_LIMITS.unzippedBytes), DEFAULT_LIMITS.maxArtifactBytes),
  maxUnzippedBytes: z._default(int(1, LAMBDA_LIMITS.unzippedBytes), DEFAULT_LIMITS.maxUnzippedBytes),
  maxEntries: z._default(int(1, 1_000_000), DEFAULT_LIMITS.maxEntries),
});

const rawConfigSchema = z.strictObject({
  artifactBucket: str(BUCKET_NAME, 'an S3 bucket name'),
  artifactPrefix: z._default(str(/^([\w.-]+\/)*$/, 'a key prefix ending in /, such as artifacts/'), 'artifacts/'),
  region: str(REGION, 'an AWS Region such as eu-west-1'),
  deployRole: z._default(z.string(), 'ferry-deploy'),
  externalId: z.optional(str(EXTERNAL_ID, '2–1224 characters of [\\w+=,.@:/-]')),
  defaultAlias: z._default(str(ALIAS_NAME, 'an alias name that is not only digits').check(z.maxLength(128)), 'live'),
  keepVersions: z._default(int(1, 1000), 10),
  /** Targets deployed at once; each account is paced under its own Lambda rate limits anyway. */
  concurrency: z._default(int(1, 100), 16),
  /** STS session duration; AWS bounds AssumeRole to 900..43200 seconds, role chaining to 3600 (checked below). */
  sessionDurationSeconds: z._default(int(900, 43_200), 900),
  /** A lease not renewed for this long is considered abandoned by a crashed run (holders renew it as they work). */
  leaseSeconds: z._default(int(30, 3600), 120),
  /**
   * Targets per shard: in Lambda, a stage with more targets is split into shards (every target of
   * one account in the same shard) that run in parallel invocations of ferry's own function.
   */
  shardTargets: z._default(int(1, 10_000), 500),
  limits: z._default(limitsSchema, DEFAULT_LIMITS),
  stages: z.array(stageSchema).check(z.minLength(1)),
  apps: z.record(z.string(), appSchema),
});

export interface Target {
  /** Stable id used in logs and the ledger: `<account>/<region>/<function>:<alias>`. */
  readonly id: string;
  readonly stage: string;
  readonly accountId: string;
  readonly region: string;
  readonly functionName: string;
  readonly alias: string;
  readonly roleArn: string;
  readonly externalId?: string;
}

export interface PromotionRule {
  readonly from: string;
  readonly to: string;
  readonly minSoakMinutes: number;
  readonly weekdays?: readonly Weekday[];
  readonly hoursUtc?: { readonly from: number; readonly to: number };
  readonly requireNoFailures: boolean;
  readonly traffic?: TrafficSpec;
}

export interface Stage {
  readonly name: string;
  readonly index: number;
  readonly acceptsUploads: boolean;
}

export interface AppConfig {
  readonly name: string;
  readonly keepVersions: number;
  /** Targets per stage name, in configuration order. */
  readonly targets: Readonly<Record<string, readonly Target[]>>;
  readonly promotions: readonly PromotionRule[];
  /** Stage name → its traffic settings (absent: all at once). */
  readonly traffic: Readonly<Record<string, TrafficSpec>>;
  /** Every build id must match this regular expression as a whole (validated at load). */
  readonly buildPattern?: string;
}

export interface ArtifactLimits {
  readonly maxArtifactBytes: number;
  readonly maxUnzippedBytes: number;
  readonly maxEntries: number;
}

export interface FerryConfig {
  readonly artifactBucket: string;
  readonly artifactPrefix: string;
  readonly region: string;
  readonly concurrency: number;
  readonly sessionDurationSeconds: number;
  readonly leaseSeconds: number;
  /** Targets per shard when a stage is split across invocations (see core/shard-plan.ts). */
  readonly shardTargets: number;
  readonly limits: ArtifactLimits;
  readonly stages: readonly Stage[];
  readonly apps: Readonly<Record<string, AppConfig>>;
}

/** Parses and validates a configuration object; throws ConfigurationError naming every bad field. */
export function parseConfig(raw: unknown, source = 'configuration'): FerryConfig {
  // Checked before zod, which drops a `__proto__` key without a word.
  const reserved = findReservedKeys(raw);
  const result = rawConfigSchema.safeParse(raw);
  if (!result.success || reserved.length > 0) {
    const problems = [
      ...reserved,
      ...(result.success ? [] : result.error.issues.map((issue) => describeIssue(issue, rawConfigSchema))),
    ];
    throw new ConfigurationError('CONFIG_INVALID', `Invalid ${source}: ${problems.join('; ')}`, {
      context: { source, problems: problems.length },
    });
  }
  return deepFreeze(buildConfig(result.data, source));
}

type RawConfig = z.infer<typeof rawConfigSchema>;

function buildConfig(raw: RawConfig, source: string): FerryConfig {
  const problems: string[] = [];
  checkSessionDuration(raw.sessionDurationSeconds, problems);
  checkArtifactPrefix(raw.artifactPrefix, problems);
  const stages = resolveStages(raw.stages, problems);
  const stageNames = new Set(stages.map((s) => s.name));
  /** Every function ferry deploys, with the app and stage that owns it (across all apps). */
  const owners = new Map<string, string>();
  // Null-prototype records: a name such as "constructor" from an object key or a pipeline
  // parameter must find nothing, not Object.prototype's members.
  const apps: Record<string, AppConfig> = Object.create(null);
  for (const [appName, app] of Object.entries(raw.apps)) {
    if (!APP_NAME.test(appName)) {
      problems.push(`apps.${appName}: app names are lower-case letters, digits, '.', '_' and '-', at most 63`);
      continue;
    }
    const targets: Record<string, Target[]> = Object.create(null);
    for (const [stageName, list] of Object.entries(app.targets)) {
      if (!stageNames.has(stageName)) {
        problems.push(
          `apps.${appName}.targets.${stageName}: unknown stage; expected one of ${[...stageNames].join(', ')}`,
        );
        continue;
      }
      targets[stageName] = list.map((t, i) =>
        resolveTarget(raw, t, stageName, `apps.${appName}.targets.${stageName}[${i}]`, problems),
      );
    }
    checkDuplicateTargets(appName, targets, owners, problems);
    checkPromotions(appName, app.promotions, stages, targets, problems);
    checkBuildPatternSyntax(appName, app.buildPattern, problems);
    const promotions = app.promotions.map((rule, i): PromotionRule => {
      const path = `apps.${appName}.promotions[${i}]`;
      const { traffic, ...rest } = rule;
      return traffic === undefined
        ? rest
        : { ...rest, traffic: buildTrafficSpec(traffic, `${path}.traffic`, problems) };
    });
    const traffic: Record<string, TrafficSpec> = Object.create(null);
    for (const [stageName, spec] of Object.entries(app.traffic ?? {})) {
      const path = `apps.${appName}.traffic.${stageName}`;
      if (!stageNames.has(stageName)) {
        problems.push(`${path}: unknown stage; expected one of ${[...stageNames].join(', ')}`);
        continue;
      }
      traffic[stageName] = buildTrafficSpec(spec, path, problems);
    }
    apps[appName] = {
      name: appName,
      keepVersions: app.keepVersions ?? raw.keepVersions,
      targets,
      promotions,
      traffic,
      ...(app.buildPattern === undefined ? {} : { buildPattern: app.buildPattern }),
    };
  }
  if (problems.length > 0) {
    throw new ConfigurationError('CONFIG_INVALID', `Invalid ${source}: ${problems.join('; ')}`, {
      context: { source, problems: problems.length },
    });
  }
  return {
    artifactBucket: raw.artifactBucket,
    artifactPrefix: raw.artifactPrefix,
    region: raw.region,
    concurrency: raw.concurrency,
    sessionDurationSeconds: raw.sessionDurationSeconds,
    leaseSeconds: raw.leaseSeconds,
    shardTargets: raw.shardTargets,
    limits: raw.limits,
    stages,
    apps,
  };
}

function resolveStages(raw: RawConfig['stages'], problems: string[]): Stage[] {
  const seen = new Set<string>();
  return raw.map((stage, index) => {
    if (seen.has(stage.name)) problems.push(`stages[${index}].name: duplicate stage '${stage.name}'`);
    seen.add(stage.name);
    const isLast = index === raw.length - 1;
    // Uploads land in the first stage by default; the last stage (production) only ever by explicit choice.
    const acceptsUploads = stage.acceptsUploads ?? (index === 0 && !isLast);
    return { name: stage.name, index, acceptsUploads };
  });
}

function resolveTarget(
  raw: RawConfig,
  t: z.infer<typeof targetSchema>,
  stage: string,
  path: string,
  problems: string[],
): Target {
  const region = t.region ?? raw.region;
  const alias = t.alias ?? raw.defaultAlias;
  const role = t.role ?? raw.deployRole;
  let roleArn = role;
  const arnMatch = ROLE_ARN.exec(role);
  if (arnMatch) {
    if (arnMatch[1] !== t.account) {
      problems.push(`${path}.role: the role ARN is in account ${arnMatch[1]} but the target is account ${t.account}`);
    }
  } else if (ROLE_NAME.test(role)) {
    roleArn = `arn:aws:iam::${t.account}:role/${role}`;
  } else {
    problems.push(`${path}.role: expected a role name or an arn:aws:iam::<account>:role/<name> ARN`);
  }
  const externalId = t.externalId ?? raw.externalId;
  return {
    id: `${t.account}/${region}/${t.function}:${alias}`,
    stage,
    accountId: t.account,
    region,
    functionName: t.function,
    alias,
    roleArn,
    ...(externalId === undefined ? {} : { externalId }),
  };
}

function checkDuplicateTargets(
  app: string,
  targets: Record<string, Target[]>,
  owners: Map<string, string>,
  problems: string[],
): void {
  for (const [stage, list] of Object.entries(targets)) {
    for (const target of list) {
      const key = `${target.accountId}/${target.region}/${target.functionName}`;
      const previous = owners.get(key);
      if (previous !== undefined) {
        problems.push(
          `apps.${app}.targets.${stage}: function ${key} is already a target of ${previous}; a function belongs to one app and one stage, or their deployments would interleave`,
        );
      }
      owners.set(key, `app ${app}, stage ${stage}`);
    }
  }
}

function checkBuildPatternSyntax(app: string, pattern: string | undefined, problems: string[]): void {
  if (pattern === undefined) return;
  try {
    compileBuildPattern(pattern);
  } catch (error) {
    problems.push(
      `apps.${app}.buildPattern: not a valid regular expression (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

function checkPromotions(
  app: string,
  rules: readonly Pick<PromotionRule, 'from' | 'to'>[],
  stages: Stage[],
  targets: Record<string, Target[]>,
  problems: string[],
): void {
  const firstRuleOf = new Map<string, number>();
  rules.forEach((rule, i) => {
    const path = `apps.${app}.promotions[${i}]`;
    const from = stages.find((s) => s.name === rule.from);
    const to = stages.find((s) => s.name === rule.to);
    if (!from) problems.push(`${path}.from: unknown stage '${rule.from}'`);
    if (!to) problems.push(`${path}.to: unknown stage '${rule.to}'`);
    if (from && to && to.index <= from.index) {
      problems.push(`${path}: promotions go forward; '${rule.to}' does not come after '${rule.from}'`);
    }
    if (to && targets[to.name] === undefined) {
      problems.push(
        `${path}.to: app ${app} has no targets in stage '${rule.to}', so this rule could never deploy anything; add targets under apps.${app}.targets.${rule.to} or remove the rule`,
      );
    }
    // Two rules for one pair would be evaluated one after the other with different gates:
    // whichever lets the build through wins, so the stricter rule would mean nothing.
    const pair = `${rule.from}\u0000${rule.to}`;
    const first = firstRuleOf.get(pair);
    if (first === undefined) firstRuleOf.set(pair, i);
    else {
      problems.push(
        `${path}: a second rule for ${rule.from} → ${rule.to} (the first is promotions[${first}]); merge them into one rule`,
      );
    }
  });
}

function checkSessionDuration(seconds: number, problems: string[]): void {
  if (seconds > ROLE_CHAINING_MAX_SECONDS) {
    problems.push(
      `sessionDurationSeconds: expected at most ${ROLE_CHAINING_MAX_SECONDS}; ferry assumes deploy roles from its Lambda's role, which is role chaining, and AWS refuses role-chaining sessions longer than one hour`,
    );
  }
}

function checkArtifactPrefix(prefix: string, problems: string[]): void {
  if (prefix === '') {
    problems.push(
      `artifactPrefix: must not be empty; uploads would share the bucket's root with ferry's own ${LEDGER_PREFIX} and ${LEASE_PREFIX} objects, and the CI policy could not be limited to artifacts. Use a prefix such as artifacts/`,
    );
    return;
  }
  for (const reserved of [LEDGER_PREFIX, LEASE_PREFIX]) {
    if (prefix.startsWith(reserved) || reserved.startsWith(prefix)) {
      problems.push(
        `artifactPrefix: '${prefix}' overlaps ferry's own '${reserved}' objects in the bucket; an upload there could be read as ferry's records. Use a prefix such as artifacts/`,
      );
    }
  }
}

/** Reserved names used as app keys or as stage keys under an app's targets or traffic, as problems. */
function findReservedKeys(raw: unknown): string[] {
  const problems: string[] = [];
  const apps = ownRecord(ownRecord(raw)?.apps);
  if (!apps) return problems;
  for (const appName of Object.keys(apps)) {
    if (isReserved(appName)) problems.push(reservedProblem(`apps.${appName}`));
    for (const field of ['targets', 'traffic'] as const) {
      const byStage = ownRecord(ownRecord(apps[appName])?.[field]);
      for (const stageName of Object.keys(byStage ?? {})) {
        if (isReserved(stageName)) problems.push(reservedProblem(`apps.${appName}.${field}.${stageName}`));
      }
    }
  }
  return problems;
}

function ownRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isReserved(key: string): boolean {
  return (RESERVED_KEYS as readonly string[]).includes(key);
}

function reservedProblem(path: string): string {
  return `${path}: '${path.split('.').at(-1)}' is a reserved name (${RESERVED_KEYS.join(', ')}); choose another name`;
}

/** zod/mini ships no message locale: say what was expected ourselves. */
function describeIssue(issue: z.core.$ZodIssue, root: z.core.$ZodType): string {
  const at = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      // A typo gets the key it was probably meant to be: `keepVersion` (did you mean 'keepVersions'?).
      const known = knownKeysAt(root, issue.path) ?? [];
      const keys = issue.keys.map((k) => {
        const near = suggestName(k, known);
        return near === undefined ? `'${k}'` : `'${k}' (did you mean '${near}'?)`;
      });
      return `${at}: unknown key${issue.keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
    }
    case 'invalid_type':
      // YAML reads an unquoted 222222222222 as a number (and drops a leading zero): say how to write it.
      if (issue.path.at(-1) === 'account' && issue.expected === 'string') {
        return `${at}: expected a 12-digit AWS account id as a string: quote it in YAML ('222222222222'), since an unquoted id is read as a number and loses any leading zero`;
      }
      return `${at}: expected ${issue.expected}`;
    case 'too_small':
      return `${at}: expected ${issue.origin === 'array' ? 'at least' : '≥'} ${String(issue.minimum)}${issue.origin === 'array' ? ' item(s)' : ''}`;
    case 'too_big':
      return `${at}: expected ${issue.origin === 'array' || issue.origin === 'string' ? 'at most' : '≤'} ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_value':
      return `${at}: expected one of ${issue.values.map(String).join(', ')}`;
    default:
      return `${at}: ${issue.message}`;
  }
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The keys the schema allows for the object at `path` (undefined when it is not a known object). */
function knownKeysAt(schema: z.core.$ZodType, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  type Def = { type: string; innerType?: Node; shape?: Record<string, Node>; valueType?: Node; element?: Node };
  type Node = { _zod: { def: Def } };
  const unwrap = (node: Node | undefined) => {
    let current = node;
    while (current && WRAPPERS.has(current._zod.def.type)) current = current._zod.def.innerType;
    return current;
  };
  let node = unwrap(schema as unknown as Node);
  for (const segment of path) {
    const def = node?._zod.def;
    if (def?.type === 'object') node = unwrap(def.shape?.[String(segment)]);
    else if (def?.type === 'record') node = unwrap(def.valueType);
    else if (def?.type === 'array') node = unwrap(def.element);
    else return undefined;
  }
  const def = node?._zod.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The stage by name, or undefined. */
export function findStage(config: FerryConfig, name: string): Stage | undefined {
  return config.stages.find((s) => s.name === name);
}

/** The targets an app deploys to in one stage (empty when the app has none there). */
export function targetsOf(app: AppConfig, stage: string): readonly Target[] {
  return app.targets[stage] ?? [];
}

/** Every role ARN the configuration may assume: the input for ferry's own IAM policy. */
export function listDeployRoleArns(config: FerryConfig): string[] {
  const arns = new Set<string>();
  for (const app of Object.values(config.apps)) {
    for (const list of Object.values(app.targets)) for (const t of list) arns.add(t.roleArn);
  }
  return [...arns].sort();
}
