/**
 * A ready-made world for ferry inside the sandbox, built from a ferry configuration the way an
 * operator builds it in AWS: a tooling account holding the artifact bucket and ferry's execution
 * role, and in every target account a deploy role as templates/target-account-role.yml creates it
 * (trusting only ferry's role, requiring the ExternalId, allowed only the Lambda calls ferry
 * makes on its functions) plus the functions themselves. The deploy roles come from the real
 * template, evaluated for each account. Used by `npm run demo` and the
 * integration tests.
 */
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import type { LambdaSettings, PolicyDocument } from '@ferry/aws-sandbox';
import {
  evaluate,
  makeFunctionZip,
  parseTemplate,
  resolveTemplateParameters,
  type Sandbox,
  type SandboxCredentials,
  startSandbox,
} from '@ferry/aws-sandbox';
import pLimit from 'p-limit';
import { type FerryConfig, parseConfig, type Target } from '../../src/core/config.js';
import type { DeployLog } from '../../src/engine/deploy-build.js';
import { createArtifactUploadedHandler } from '../../src/handlers/artifact-uploaded.js';
import {
  createRuntime,
  type Runtime,
  type RuntimeOptions,
  type SdkOverrides,
} from '../../src/runtime/create-runtime.js';

export const TOOLING_ACCOUNT_ID = '111111111111';
export const FERRY_ROLE_NAME = 'ferry-execution';
/** An operator's role in the tooling account: like ferry's, listed in ledgerWriters (the break-glass path). */
export const OPERATOR_ROLE_NAME = 'ferry-operator';
/** ferry's own upload function in the tooling account, as serverless.yml names it: shards of a large stage run there. */
export const FERRY_FUNCTION_NAME = 'ferry-dev-artifact-uploaded';

export interface FerryWorldOptions {
  /** ferry's configuration (the `ferry:` object of variables.<stage>.yml). */
  readonly config: unknown;
  readonly lambda?: Partial<LambdaSettings>;
  /**
   * 'http' (default): the sandbox listens on loopback. 'in-process': no socket; ferry's SDK clients
   * get the sandbox's in-process request handler (see `sdk`), for fast unit tests.
   */
  readonly transport?: 'http' | 'in-process';
  /** The sandbox's clock: virtual from `startAt` (see SandboxOptions.clock); default real time. */
  readonly clock?: { readonly startAt: number };
  /** Default true: every function starts with its alias on a published version 1. False: $LATEST only, no alias (a first deploy). */
  readonly seedAliases?: boolean;
  /** Extra statements for the artifact bucket policy, or a replacement policy (to test denials). */
  readonly bucketPolicy?: PolicyDocument;
  /** Trust policy override for every deploy role (to test a wrong trust). */
  readonly deployRoleTrust?: (target: Target) => PolicyDocument;
}

export interface FerryWorld {
  readonly sandbox: Sandbox;
  readonly config: FerryConfig;
  /** Root credentials of the tooling account: what CI uploads with. */
  readonly ci: SandboxCredentials;
  /**
   * A session of the operator role: exempt, like ferry's role, from the bucket policy's Deny on
   * writing ledger/ and leases/ (variables ledgerWriters). Tests forge ledger objects as it.
   */
  readonly operator: SandboxCredentials;
  /** Root credentials of any account in the world (to act as another tool would). */
  rootCredentials(accountId: string): SandboxCredentials;
  readonly ferryRoleArn: string;
  /** The environment a ferry Lambda (or CLI) runs with: endpoint, region, its role's credentials. Applied to process.env until stop(). */
  readonly env: Readonly<Record<string, string>>;
  /** Every target in configuration order. */
  readonly targets: readonly Target[];
  /**
   * What every SDK client in this world needs beyond the environment: in process, the sandbox's
   * request handler, and one attempt per call (the SDK's own retries would sleep in real time;
   * ferry's retries, on its injectable clock, are what tests look at). Empty over HTTP.
   */
  readonly sdk: SdkOverrides;
  createRuntime(options?: RuntimeOptions): Runtime;
  /** S3 ObjectCreated on the artifact prefix → ferry's upload handler, as the bucket notification does. */
  connectUploadHandler(runtime: Runtime, log: DeployLog, options?: { reservedConcurrency?: number }): () => void;
  /** Uploads a zip the way CI does (PutObject with ChecksumSHA256 and metadata). */
  upload(app: string, build: string, zip: Buffer, metadata?: Record<string, string>): Promise<{ versionId?: string }>;
  s3Client(credentials?: SandboxCredentials): S3Client;
  stop(): Promise<void>;
}

export async function startFerryWorld(options: FerryWorldOptions): Promise<FerryWorld> {
  const config = parseConfig(options.config, 'ferry world configuration');
  const sandbox = await startSandbox({
    defaultRegion: config.region,
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.lambda ? { lambda: options.lambda } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  try {
    return await buildWorld(sandbox, config, options);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

async function buildWorld(sandbox: Sandbox, config: FerryConfig, options: FerryWorldOptions): Promise<FerryWorld> {
  const tooling = sandbox.createAccount(TOOLING_ACCOUNT_ID);
  const targets = Object.values(config.apps).flatMap((app) => Object.values(app.targets).flat());
  const deployRoleArns = [...new Set(targets.map((t) => t.roleArn))];
  const ferryRoleArn = `arn:aws:iam::${TOOLING_ACCOUNT_ID}:role/${FERRY_ROLE_NAME}`;
  const operatorRoleArn = `arn:aws:iam::${TOOLING_ACCOUNT_ID}:role/${OPERATOR_ROLE_NAME}`;
  const ferryFunctionArn = `arn:aws:lambda:${config.region}:${TOOLING_ACCOUNT_ID}:function:${FERRY_FUNCTION_NAME}`;
  const bucketArn = `arn:aws:s3:::${config.artifactBucket}`;

  sandbox.createRole({
    accountId: TOOLING_ACCOUNT_ID,
    roleName: FERRY_ROLE_NAME,
    // As serverless.yml: only the Lambda service assumes it (the sandbox issues its credentials directly).
    trustPolicy: allow({ Service: 'lambda.amazonaws.com' }, 'sts:AssumeRole'),
    policies: [
      ferryExecutionPolicy(
        deployRoleArns,
        bucketArn,
        config.artifactPrefix,
        `arn:aws:events:${config.region}:${TOOLING_ACCOUNT_ID}:event-bus/default`,
        ferryFunctionArn,
      ),
    ],
  });
  sandbox.createBucket({
    accountId: TOOLING_ACCOUNT_ID,
    name: config.artifactBucket,
    region: config.region,
    versioning: true,
    policy:
      options.bucketPolicy ??
      artifactBucketPolicy(deployRoleArns, bucketArn, config.artifactPrefix, [ferryRoleArn, operatorRoleArn]),
  });

  // The operator: as the tooling account's administrators would give it, the bucket's objects and listing.
  sandbox.createRole({
    accountId: TOOLING_ACCOUNT_ID,
    roleName: OPERATOR_ROLE_NAME,
    trustPolicy: allow({ AWS: `arn:aws:iam::${TOOLING_ACCOUNT_ID}:root` }, 'sts:AssumeRole'),
    policies: [
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${bucketArn}/*` },
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
        ],
      } as PolicyDocument,
    ],
  });
  const operator = sandbox.issueRoleCredentials({ roleArn: operatorRoleArn, sessionName: 'operator' });
  const roots = new Map<string, SandboxCredentials>([[TOOLING_ACCOUNT_ID, tooling.credentials]]);
  const seededRoles = new Set<string>();
  const initialZip = await makeFunctionZip('initial');
  // Each deploy role's functions, grouped once (a stage of thousands of targets behind a thousand roles).
  const targetsByRole = new Map<string, Target[]>();
  for (const target of targets)
    targetsByRole.set(target.roleArn, [...(targetsByRole.get(target.roleArn) ?? []), target]);
  // ferry itself, so that it can invoke itself (a stage's shards); its events are delivered by the
  // test or benchmark that runs ferry in process (sandbox lambda asyncInvocations 'queue').
  sandbox.lambda.seedFunction({
    accountId: TOOLING_ACCOUNT_ID,
    region: config.region,
    functionName: FERRY_FUNCTION_NAME,
    zip: initialZip,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    aliases: [],
  });
  for (const target of targets) {
    if (!roots.has(target.accountId)) roots.set(target.accountId, sandbox.createAccount(target.accountId).credentials);
    if (!seededRoles.has(target.roleArn)) {
      const role = deployRoleFromTemplate({
        ferryRoleArn,
        functions: targetsByRole.get(target.roleArn) ?? [],
        appNames: appsDeployedBy(config, target.roleArn),
        alarmNames: trafficAlarmsOf(config),
        artifactBucket: config.artifactBucket,
        artifactPrefix: config.artifactPrefix,
      });
      sandbox.createRole({
        accountId: target.accountId,
        roleName: target.roleArn.split('/').at(-1) ?? 'ferry-deploy',
        trustPolicy: options.deployRoleTrust?.(target) ?? role.trustPolicy,
        policies: role.policies,
        maxSessionDuration: 3600,
      });
      seededRoles.add(target.roleArn);
    }
    if (!sandbox.lambda.describeFunction(target.accountId, target.region, target.functionName)) {
      sandbox.lambda.seedFunction({
        accountId: target.accountId,
        region: target.region,
        functionName: target.functionName,
        zip: initialZip,
        runtime: 'nodejs22.x',
        handler: 'index.handler',
        aliases: options.seedAliases === false ? [] : [target.alias],
      });
    }
  }

  // ferry runs as its execution role, with the temporary credentials Lambda hands a function.
  const c = sandbox.issueRoleCredentials({ roleArn: ferryRoleArn, sessionName: 'ferry-lambda', durationSeconds: 3600 });
  const env = {
    AWS_ENDPOINT_URL: sandbox.endpoint,
    AWS_REGION: config.region,
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_SESSION_TOKEN: c.sessionToken ?? '',
    FERRY_S3_FORCE_PATH_STYLE: 'true',
    FERRY_CONFIG: JSON.stringify(options.config),
    FERRY_SHARD_FUNCTION: FERRY_FUNCTION_NAME,
  };

  // The process plays ferry's Lambda: its environment is the Lambda's, until the world stops.
  // SDK clients read endpoint and credentials from it lazily, on each request.
  const restoreEnv = applyEnv(env);
  const { requestHandler } = sandbox.clientConfig(c);
  const sdk: SdkOverrides = requestHandler ? { requestHandler, maxAttempts: 1 } : {};
  const world: FerryWorld = {
    sandbox,
    config,
    ci: tooling.credentials,
    operator,
    rootCredentials(accountId) {
      const credentials = roots.get(accountId);
      if (!credentials) throw new Error(`account ${accountId} is not part of this world`);
      return credentials;
    },
    ferryRoleArn,
    env,
    targets,
    sdk,
    createRuntime(runtimeOptions = {}) {
      return createRuntime(config, { env, sdk, ...runtimeOptions });
    },
    connectUploadHandler(runtime, log, handlerOptions = {}) {
      const handler = createArtifactUploadedHandler(() => runtime, log);
      // Like the function's reserved concurrency: at most this many invocations run at once.
      const limit = pLimit(handlerOptions.reservedConcurrency ?? Number.POSITIVE_INFINITY);
      return sandbox.subscribeToObjectCreated(
        config.artifactBucket,
        { prefix: config.artifactPrefix, suffix: '.zip', id: 'ferry-artifact-uploaded' },
        (event) => limit(() => handler(event)),
      );
    },
    async upload(app, build, zip, metadata = {}) {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      const { createHash } = await import('node:crypto');
      const out = await world.s3Client().send(
        new PutObjectCommand({
          Bucket: config.artifactBucket,
          Key: `${config.artifactPrefix}${app}/${build}.zip`,
          Body: zip,
          ChecksumSHA256: createHash('sha256').update(zip).digest('base64'),
          Metadata: metadata,
        }),
      );
      return out.VersionId ? { versionId: out.VersionId } : {};
    },
    s3Client(credentials = tooling.credentials) {
      return new S3Client({ ...sandbox.clientConfig(credentials, config.region), ...sdk });
    },
    async stop() {
      try {
        await sandbox.stop();
      } finally {
        restoreEnv();
      }
    },
  };
  return world;
}

const AMBIENT_AWS_VARIABLES = ['AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'];

function applyEnv(env: Readonly<Record<string, string>>): () => void {
  const keys = [...Object.keys(env), ...AMBIENT_AWS_VARIABLES];
  const saved = new Map(keys.map((k) => [k, process.env[k]]));
  for (const k of AMBIENT_AWS_VARIABLES) delete process.env[k];
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

function allow(principal: Record<string, string>, action: string, condition?: Record<string, unknown>): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: principal, Action: action, ...(condition ? { Condition: condition } : {}) },
    ],
  } as PolicyDocument;
}

const DEPLOY_ROLE_TEMPLATE = new URL('../../templates/target-account-role.yml', import.meta.url);

type DeployRoleTemplate = Record<string, unknown> & { Resources: { DeployRole: unknown } };
let deployRoleTemplate: DeployRoleTemplate | undefined;

/** The template, read and parsed once per process (evaluate does not change it): a world may hold a thousand deploy roles. */
function readDeployRoleTemplate(): DeployRoleTemplate {
  deployRoleTemplate ??= parseTemplate(readFileSync(DEPLOY_ROLE_TEMPLATE, 'utf8')) as DeployRoleTemplate;
  return deployRoleTemplate;
}

/**
 * The deploy role exactly as templates/target-account-role.yml creates it in a target account,
 * for that account's functions: so a least-privilege mistake in the template shows up here as
 * AccessDenied, as it would in AWS.
 */
function deployRoleFromTemplate(input: {
  ferryRoleArn: string;
  functions: readonly Target[];
  /** The apps with a target behind this role: it reads only their artifacts. */
  appNames: readonly string[];
  artifactBucket: string;
  artifactPrefix: string;
  /** traffic.alarms of the configuration (the operator lists them in AlarmNames). */
  alarmNames: readonly string[];
}): { trustPolicy: PolicyDocument; policies: PolicyDocument[] } {
  const [first] = input.functions;
  if (!first) throw new Error('a deploy role needs at least one function');
  if (!first.externalId) {
    throw new Error(`target ${first.id} has no externalId: templates/target-account-role.yml requires one`);
  }
  const template = readDeployRoleTemplate();
  // As an operator fills the parameters in; CloudFormation's checks (patterns, defaults) apply.
  const parameters = resolveTemplateParameters(template, {
    // The sandbox runs every handler as one role: the only one the deploy roles need to trust.
    FerryRoleArns: input.ferryRoleArn,
    ExternalId: first.externalId,
    FunctionNames: [...new Set(input.functions.map((t) => t.functionName))].join(','),
    AppNames: input.appNames.join(','),
    ArtifactBucketName: input.artifactBucket,
    ArtifactPrefix: input.artifactPrefix,
    // The configuration's traffic alarms, else the template's default.
    ...(input.alarmNames.length > 0 ? { AlarmNames: input.alarmNames.join(',') } : {}),
    RoleName: first.roleArn.split('/').at(-1) ?? 'ferry-deploy',
  });
  const role = evaluate(template.Resources.DeployRole, {
    parameters,
    accountId: first.accountId,
    region: first.region,
  }) as unknown as {
    Properties: { AssumeRolePolicyDocument: PolicyDocument; Policies: { PolicyDocument: PolicyDocument }[] };
  };
  return {
    trustPolicy: role.Properties.AssumeRolePolicyDocument,
    policies: role.Properties.Policies.map((p) => p.PolicyDocument),
  };
}

/** The apps with at least one target deployed through this role, sorted. */
function appsDeployedBy(config: FerryConfig, roleArn: string): string[] {
  return Object.entries(config.apps)
    .filter(([, app]) => Object.values(app.targets).some((list) => list.some((t) => t.roleArn === roleArn)))
    .map(([name]) => name)
    .sort();
}

/** Every alarm named in a stage's traffic settings or a promotion rule's override. */
function trafficAlarmsOf(config: FerryConfig): string[] {
  const specs = Object.values(config.apps).flatMap((app) => [
    ...Object.values(app.traffic),
    ...app.promotions.flatMap((rule) => (rule.traffic ? [rule.traffic] : [])),
  ]);
  return [...new Set(specs.flatMap((spec) => spec.alarms ?? []))].sort();
}

/** As serverless.yml: assume the configured deploy roles; read and write ferry's own bucket. */
function ferryExecutionPolicy(
  deployRoleArns: readonly string[],
  bucketArn: string,
  prefix: string,
  eventBusArn: string,
  ferryFunctionArn: string,
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [...deployRoleArns] },
      { Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
        Resource: [`${bucketArn}/${prefix}*`, `${bucketArn}/ledger/*`, `${bucketArn}/leases/*`],
      },
      {
        Effect: 'Allow',
        // A multipart copy that fails is aborted (serverless.yml, ReadWriteArtifacts).
        Action: ['s3:GetObjectAttributes', 's3:GetObjectVersionAttributes', 's3:AbortMultipartUpload'],
        Resource: `${bucketArn}/${prefix}*`,
      },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
      // ferry's notifications (traffic shifts) on the tooling account's default bus.
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: eventBusArn },
      // A stage beyond one invocation continues in asynchronous invocations of ferry itself.
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ferryFunctionArn },
      {
        Effect: 'Allow',
        Action: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
        Resource: '*',
      },
    ],
  } as PolicyDocument;
}

/**
 * As serverless.yml: the target accounts' deploy roles may read artifacts (the S3-reference path for
 * large zips), and nobody but ferry and the ledger writers may write or delete ledger/ and leases/.
 */
function artifactBucketPolicy(
  deployRoleArns: readonly string[],
  bucketArn: string,
  prefix: string,
  ledgerWriters: readonly string[],
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DeployRolesReadArtifacts',
        Effect: 'Allow',
        Principal: { AWS: [...deployRoleArns] },
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: `${bucketArn}/${prefix}*`,
      },
      {
        Sid: 'OnlyFerryWritesLedgerAndLeases',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: [`${bucketArn}/ledger/*`, `${bucketArn}/leases/*`],
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [...ledgerWriters] } },
      },
    ],
  } as PolicyDocument;
}
