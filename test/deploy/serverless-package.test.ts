/**
 * Runs the framework's package step (the same as `npm run package`) on a copy of the repository in
 * a temporary directory, without AWS credentials, and checks the CloudFormation template it
 * generates: the functions and their triggers, every IAM statement, the artifact bucket's
 * hardening and the failure destination. It packages every run, so it cannot pass on a stale build.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeployRoleArns, parseConfig } from '../../src/core/config.js';
import { asList, type Loose } from './cloudformation.js';

const require = createRequire(import.meta.url);
const { readVariables } = require('../../serverless/ferry-values.cjs') as {
  readVariables: (stage: string) => Record<string, Loose>;
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STAGE = 'dev';

type Resource = {
  Type: string;
  Properties: Record<string, Loose>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
};
type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: Loose;
  Condition?: Loose;
};

let workDir: string;
let packageSummary = '';
let template: { Resources: Record<string, Resource>; Outputs: Record<string, Loose> };
const vars = readVariables(STAGE);
const config = parseConfig(vars.ferry);
const bucketArn = `arn:aws:s3:::${config.artifactBucket}`;

function resource(id: string): Resource {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id} in the template`);
  return found;
}

function resourcesOfType(type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Each function's role, by function: what its trigger needs, nothing else. */
const ROLES = {
  ArtifactUploadedLambdaFunction: { role: 'ArtifactUploadedRole', name: 'upload', log: 'artifact-uploaded' },
  ScheduledPromotionLambdaFunction: { role: 'ScheduledPromotionRole', name: 'promote', log: 'scheduled-promotion' },
  CodepipelineActionLambdaFunction: { role: 'CodePipelineActionRole', name: 'pipeline', log: 'codepipeline-action' },
  TrafficTickLambdaFunction: { role: 'TrafficTickRole', name: 'traffic', log: 'traffic-tick' },
} as const;

function roleStatements(roleId: string): Statement[] {
  const policies = resource(roleId).Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** Every grant of a role as `action resource` lines (logs left out: each role writes its own group). */
function grantsOf(roleId: string): string[] {
  return roleStatements(roleId)
    .filter((s) => !asList(s.Action).some((a) => a.startsWith('logs:')))
    .flatMap((s) =>
      asList(s.Action).flatMap((a) =>
        asList(s.Resource).map((r) => `${a} ${typeof r === 'string' ? r : JSON.stringify(r)}`),
      ),
    )
    .sort();
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'ferry-package-'));
  for (const entry of [
    'serverless.yml',
    'package.json',
    'tsconfig.json',
    'serverless',
    'scripts',
    'src',
    `variables.${STAGE}.yml`,
  ]) {
    cpSync(path.join(ROOT, entry), path.join(workDir, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(workDir, 'node_modules'), 'dir');
  const outDir = path.join(workDir, 'out');
  const home = path.join(workDir, 'home');
  // No credentials, no AWS config, no instance metadata: packaging must not need AWS at all.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
  };
  try {
    // `npm run package` is scripts/package.ts: it checks the variables, runs osls package, and says where and how big.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/package.ts', '--stage', STAGE, '--package', outDir],
      { cwd: workDir, env, maxBuffer: 16 * 1024 * 1024 },
    );
    packageSummary = stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`osls package failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  template = JSON.parse(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('npm run package', () => {
  it('says where the package is and how big it is', () => {
    expect(packageSummary).toMatch(
      /^Packaged ferry for stage dev in out\/ \(\d+(\.\d)? (KiB|MiB) in \d+ zip\(s\)\):$/m,
    );
    expect(packageSummary).toMatch(/^ {2}artifactUploaded\.zip +\d+(\.\d)? (KiB|MiB)$/m);
    expect(packageSummary).toMatch(/^ {2}cloudformation-template-update-stack\.json +\d+/m);
  });
});

describe('the packaged functions', () => {
  const expected = {
    ArtifactUploadedLambdaFunction: { handler: 'src/handlers/artifact-uploaded.handler', zip: 'artifactUploaded.zip' },
    ScheduledPromotionLambdaFunction: {
      handler: 'src/handlers/scheduled-promotion.handler',
      zip: 'scheduledPromotion.zip',
    },
    CodepipelineActionLambdaFunction: {
      handler: 'src/handlers/codepipeline-action.handler',
      zip: 'codepipelineAction.zip',
    },
    TrafficTickLambdaFunction: { handler: 'src/handlers/traffic-tick.handler', zip: 'trafficTick.zip' },
  };

  it('defines exactly one function per handler, on nodejs22.x and arm64', () => {
    const functions = resourcesOfType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(Object.keys(expected).sort());
    for (const [id, fn] of functions) {
      expect(fn.Properties.Handler).toBe(expected[id as keyof typeof expected].handler);
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('bundles each handler as a minified ESM file with its source map', () => {
    for (const { handler, zip } of Object.values(expected)) {
      const file = path.join(workDir, 'out', zip);
      expect(existsSync(file), `${zip} exists`).toBe(true);
      const listing = readFileSync(file).toString('latin1');
      const entry = handler.replace(/\.handler$/, '.mjs');
      expect(listing).toContain(entry);
      expect(listing).toContain(`${entry}.map`);
    }
  });

  it('gives every function that handles artifacts 15 minutes, at least 1 GB of memory and 1 GB of /tmp for spooling them', () => {
    for (const [id, fn] of resourcesOfType('AWS::Lambda::Function')) {
      if (id === 'TrafficTickLambdaFunction') continue;
      expect(fn.Properties.Timeout).toBe(900);
      expect(fn.Properties.MemorySize).toBeGreaterThanOrEqual(1024);
      expect(fn.Properties.EphemeralStorage.Size).toBeGreaterThanOrEqual(1024);
      expect(fn.Properties.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(1);
    }
    expect(resource('ScheduledPromotionLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(
      vars.lambda.scheduledPromotion.reservedConcurrency,
    );
  });

  it('passes the ferry section of the variables file as FERRY_CONFIG, which parseConfig accepts', () => {
    for (const [id, fn] of resourcesOfType('AWS::Lambda::Function')) {
      const variables = fn.Properties.Environment.Variables as Record<string, string>;
      const raw = JSON.parse(variables.FERRY_CONFIG ?? 'null');
      expect(raw, id).toEqual(vars.ferry);
      expect(() => parseConfig(raw)).not.toThrow();
      // Lambda's limit for all environment variables of a function together.
      const bytes = Object.entries(variables).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      expect(bytes).toBeLessThanOrEqual(4096);
    }
  });
});

describe('the triggers', () => {
  it('notifies the artifact-uploaded function of new .zip objects under the artifact prefix', () => {
    const bucket = resource('S3BucketArtifacts');
    expect(bucket.Properties.BucketName).toBe(config.artifactBucket);
    const configurations = bucket.Properties.NotificationConfiguration.LambdaConfigurations;
    expect(configurations).toEqual([
      {
        Event: 's3:ObjectCreated:*',
        Function: { 'Fn::GetAtt': ['ArtifactUploadedLambdaFunction', 'Arn'] },
        Filter: {
          S3Key: {
            Rules: [
              { Name: 'prefix', Value: config.artifactPrefix },
              { Name: 'suffix', Value: '.zip' },
            ],
          },
        },
      },
    ]);
  });

  it('lets only this account’s artifact bucket invoke the function, before the notification is created', () => {
    const permissions = resourcesOfType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Principal === 's3.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    const [id, permission] = permissions[0] as [string, Resource];
    expect(permission.Properties.FunctionName).toEqual({ 'Fn::GetAtt': ['ArtifactUploadedLambdaFunction', 'Arn'] });
    expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`:s3:::${config.artifactBucket}`);
    expect(permission.Properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    // S3 validates the destination when the notification is put: the permission must exist first.
    expect(asList(resource('S3BucketArtifacts').DependsOn)).toContain(id);
  });

  it('schedules each configured promotion with its rule as input', () => {
    const rules = resourcesOfType('AWS::Events::Rule')
      .map(([, r]) => r.Properties)
      .filter((r) => JSON.stringify(r.Targets).includes('ScheduledPromotion'));
    const actual = rules.map((r) => ({
      expression: r.ScheduleExpression,
      state: r.State,
      target: r.Targets[0].Arn,
      input: JSON.parse(r.Targets[0].Input),
    }));
    const wanted = (vars.schedules as { cron: string; app?: string; from?: string; to?: string }[]).map((s) => ({
      expression: s.cron,
      state: 'ENABLED',
      target: { 'Fn::GetAtt': ['ScheduledPromotionLambdaFunction', 'Arn'] },
      input: s.app === undefined ? {} : { app: s.app, from: s.from, to: s.to },
    }));
    expect(actual).toEqual(wanted);
    expect(actual.map((a) => a.expression)).toEqual(
      expect.arrayContaining(['cron(0 6 * * ? *)', 'cron(0 8 ? * MON-FRI *)']),
    );
    const eventPermissions = resourcesOfType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Principal === 'events.amazonaws.com',
    );
    // One more for the traffic tick's rule.
    expect(eventPermissions).toHaveLength(rules.length + 1);
  });

  it('gives the CodePipeline action function no trigger of its own (the pipeline invokes it)', () => {
    const invokers = resourcesOfType('AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p.Properties.FunctionName).includes('CodepipelineActionLambdaFunction'),
    );
    expect(invokers).toEqual([]);
  });
});

describe('the functions’ roles', () => {
  const deployRoles = listDeployRoleArns(config);
  const artifacts = `${bucketArn}/${config.artifactPrefix}*`;
  const bus = `arn:aws:events:${config.region}:${vars.toolingAccount}:event-bus/default`;
  const queue = JSON.stringify({ 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] });
  const common = [
    ...deployRoles.map((arn) => `sts:AssumeRole ${arn}`),
    `s3:GetObject ${bucketArn}/ledger/*`,
    `s3:PutObject ${bucketArn}/ledger/*`,
    `s3:GetObject ${bucketArn}/leases/*`,
    `s3:PutObject ${bucketArn}/leases/*`,
    `s3:ListBucket ${bucketArn}`,
    `events:PutEvents ${bus}`,
  ];
  const verify = ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes'].map(
    (a) => `${a} ${artifacts}`,
  );

  it('runs each function as its own role, named for the deploy roles to trust', () => {
    for (const [fn, { role, name }] of Object.entries(ROLES)) {
      expect(resource(fn).Properties.Role, fn).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
      expect(resource(role).Properties.RoleName).toBe(`ferry-${STAGE}-${config.region}-${name}`);
      expect(resource(role).Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
    // No shared execution role is left for the framework to create.
    expect(
      resourcesOfType('AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      Object.values(ROLES)
        .map((r) => r.role)
        .sort(),
    );
  });

  it('lets the upload trigger deploy and verify artifacts, send what failed to the queue, and invoke itself (shards)', () => {
    const own = `arn:aws:lambda:${config.region}:${vars.toolingAccount}:function:ferry-${STAGE}-artifact-uploaded`;
    expect(grantsOf('ArtifactUploadedRole')).toEqual(
      [...common, ...verify, `sqs:SendMessage ${queue}`, `lambda:InvokeFunction ${own}`].sort(),
    );
    const env = resource('ArtifactUploadedLambdaFunction').Properties.Environment.Variables as Record<string, string>;
    expect(env.FERRY_SHARD_FUNCTION).toBe(`ferry-${STAGE}-artifact-uploaded`);
  });

  it('lets the scheduled promotion do the same, and nothing more', () => {
    expect(grantsOf('ScheduledPromotionRole')).toEqual([...common, ...verify, `sqs:SendMessage ${queue}`].sort());
  });

  it('lets only the CodePipeline action copy artifacts and report job results (which have no resource type)', () => {
    expect(grantsOf('CodePipelineActionRole')).toEqual(
      [
        ...common,
        ...verify,
        `s3:PutObject ${artifacts}`,
        `s3:AbortMultipartUpload ${artifacts}`,
        'codepipeline:PutJobFailureResult *',
        'codepipeline:PutJobSuccessResult *',
      ].sort(),
    );
  });

  it('lets the traffic tick reach deploy roles, ledger, leases and notifications, and no artifact', () => {
    expect(grantsOf('TrafficTickRole')).toEqual([...common].sort());
    const tick = resource('TrafficTickLambdaFunction');
    expect(tick.Properties.ReservedConcurrentExecutions).toBe(1);
    const rules = resourcesOfType('AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes('TrafficTick'),
    );
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
  });

  it('lets each role write only its own function’s logs, and allows, never wildcards actions', () => {
    for (const { role, log } of Object.values(ROLES)) {
      const statements = roleStatements(role);
      const logs = statements.filter((s) => asList(s.Action).some((a) => a.startsWith('logs:')));
      expect(logs.flatMap((s) => asList(s.Action)).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const s of logs) {
        expect(asList(s.Resource)).toEqual([
          `arn:aws:logs:${config.region}:${vars.toolingAccount}:log-group:/aws/lambda/ferry-${STAGE}-${log}:*`,
        ]);
      }
      for (const s of statements) {
        expect(s.Effect).toBe('Allow');
        for (const action of asList(s.Action)) expect(action).not.toContain('*');
      }
    }
  });

  it('outputs the role ARNs the deploy roles trust, as the template’s FerryRoleArns value', () => {
    expect(String(template.Outputs.TrustedRoleArns.Value).split(',')).toEqual(
      Object.values(ROLES).map(
        (r) => `arn:aws:iam::${vars.toolingAccount}:role/ferry-${STAGE}-${config.region}-${r.name}`,
      ),
    );
  });
});

describe('the artifact bucket', () => {
  it('is versioned, private, owner-enforced, encrypted and kept when the stack goes', () => {
    const bucket = resource('S3BucketArtifacts');
    const p = bucket.Properties;
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('expires noncurrent versions after the configured number of days', () => {
    const rules = resource('S3BucketArtifacts').Properties.LifecycleConfiguration.Rules as Record<string, Loose>[];
    const expiry = rules.find((r) => r.NoncurrentVersionExpiration);
    expect(expiry?.Status).toBe('Enabled');
    expect(expiry?.NoncurrentVersionExpiration.NoncurrentDays).toBe(
      vars.artifactBucket.noncurrentVersionExpirationDays,
    );
    expect(rules.some((r) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation > 0)).toBe(true);
  });

  it('refuses every request without TLS', () => {
    const policies = resourcesOfType('AWS::S3::BucketPolicy').filter(
      ([, p]) => p.Properties.Bucket?.Ref === 'S3BucketArtifacts',
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as [string, Resource])[1].Properties.PolicyDocument.Statement as Statement[];
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('lets exactly the target deploy roles read artifacts, and nobody else anything', () => {
    const [, policy] = resourcesOfType('AWS::S3::BucketPolicy').find(
      ([, p]) => p.Properties.Bucket?.Ref === 'S3BucketArtifacts',
    ) as [string, Resource];
    const allows = (policy.Properties.PolicyDocument.Statement as Statement[]).filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    const allow = allows[0] as Statement;
    const roles = listDeployRoleArns(config);
    const accounts = [...new Set(roles.map((arn) => arn.split(':')[4]))];
    expect(asList(allow.Principal.AWS).sort()).toEqual(accounts.map((a) => `arn:aws:iam::${a}:root`).sort());
    expect(asList(allow.Condition.ArnEquals['aws:PrincipalArn']).sort()).toEqual(roles);
    expect(asList(allow.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(allow.Resource).toBe(`${bucketArn}/${config.artifactPrefix}*`);
  });
});

describe('the ledger and the leases', () => {
  it('may be written or deleted only by ferry’s functions and the listed ledger writers, whatever IAM allows', () => {
    const [, policy] = resourcesOfType('AWS::S3::BucketPolicy').find(
      ([, p]) => p.Properties.Bucket?.Ref === 'S3BucketArtifacts',
    ) as [string, Resource];
    const guard = (policy.Properties.PolicyDocument.Statement as Statement[]).find(
      (s) => s.Sid === 'OnlyFerryWritesLedgerAndLeases',
    );
    expect(guard).toMatchObject({ Effect: 'Deny', Principal: '*' });
    expect(asList(guard?.Action).sort()).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject']);
    expect(asList(guard?.Resource as string[])).toEqual([`${bucketArn}/ledger/*`, `${bucketArn}/leases/*`]);
    const writers = ['upload', 'promote', 'pipeline', 'traffic'].map(
      (r) => `arn:aws:iam::${vars.toolingAccount}:role/ferry-${STAGE}-${config.region}-${r}`,
    );
    expect(guard?.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [...writers, ...((vars.ledgerWriters as string[] | undefined) ?? [])] },
    });
  });
});

describe('asynchronous failures', () => {
  it('sends events that failed every attempt to a queue that keeps them 14 days', () => {
    const queue = resource('FailedInvocationsQueue');
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const configs = resourcesOfType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    const withDestination = configs.filter((c) => c.DestinationConfig?.OnFailure);
    expect(withDestination.map((c) => c.FunctionName.Ref).sort()).toEqual(
      ['ArtifactUploadedLambdaFunction', 'ScheduledPromotionLambdaFunction'].sort(),
    );
    for (const c of withDestination) {
      expect(c.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] });
      expect(c.MaximumRetryAttempts).toBeLessThanOrEqual(2);
      expect(c.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
    }
    const upload = configs.find((c) => c.FunctionName.Ref === 'ArtifactUploadedLambdaFunction');
    expect(upload?.MaximumRetryAttempts).toBe(2);
  });

  it('keeps CodePipeline job events, which carry artifact credentials, out of any queue', () => {
    const pipeline = resourcesOfType('AWS::Lambda::EventInvokeConfig')
      .map(([, c]) => c.Properties)
      .find((c) => c.FunctionName.Ref === 'CodepipelineActionLambdaFunction');
    expect(pipeline?.DestinationConfig?.OnFailure).toBeUndefined();
    expect(pipeline?.MaximumRetryAttempts ?? 0).toBe(0);
  });
});

describe('the template as a whole', () => {
  /** Every logical id a resource refers to through Ref, Fn::GetAtt, Fn::Sub or DependsOn. */
  function dependencies(r: Resource): Set<string> {
    const found = new Set<string>(asList(r.DependsOn));
    const visit = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(visit);
      else if (n && typeof n === 'object') {
        for (const [k, v] of Object.entries(n)) {
          if (k === 'Ref' && typeof v === 'string') found.add(v);
          else if (k === 'Fn::GetAtt') found.add(Array.isArray(v) ? v[0] : String(v).split('.')[0]);
          else if (k === 'Fn::Sub') {
            const text = Array.isArray(v) ? v[0] : v;
            for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[^}]*)?\}/g)) found.add(m[1] as string);
            visit(v);
          } else visit(v);
        }
      }
    };
    visit(r.Properties);
    for (const id of [...found]) if (!(id in template.Resources)) found.delete(id);
    return found;
  }

  it('has no circular dependency (bucket, notification, permission, function and role)', () => {
    const graph = new Map(Object.entries(template.Resources).map(([id, r]) => [id, dependencies(r)]));
    const state = new Map<string, 'visiting' | 'done'>();
    const walk = (id: string, trail: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') throw new Error(`cycle: ${[...trail, id].join(' -> ')}`);
      state.set(id, 'visiting');
      for (const next of graph.get(id) ?? []) walk(next, [...trail, id]);
      state.set(id, 'done');
    };
    for (const id of graph.keys()) walk(id, []);
  });
});
