import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { InterceptedRequest } from '@ferry/aws-sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPipelineJobPort } from '../../../src/aws/codepipeline.js';
import type { LedgerEntry } from '../../../src/core/ledger-model.js';
import { createCodePipelineActionHandler } from '../../../src/handlers/codepipeline-action.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, TOOLING_ACCOUNT_ID, type UnitWorld } from '../../support/unit-world.js';
import { buildZip, makeZip } from '../../support/zips.js';

type JobEvent = {
  'CodePipeline.job': { id: string; data: Record<string, unknown> & { artifactCredentials?: Record<string, string> } };
};

const load = (name: string) => JSON.parse(readFileSync(`test/fixtures/events/${name}`, 'utf8')) as JobEvent;
const singleFixture = load('codepipeline-job.json');
const continuedFixture = load('codepipeline-job-continued.json');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

const BUCKET = 'ferry-artifacts-111111111111';
const PIPELINE_BUCKET = 'codepipeline-eu-west-1-123456789012';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  concurrency: 1,
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [
          { account: '222222222222', function: 'orders-api' },
          { account: '333333333333', function: 'orders-api' },
        ],
      },
    },
    'billing-api': { targets: { prod: [{ account: '444444444444', function: 'billing' }] } },
  },
};
/** ferry's own execution role session in the world (the Lambda's credentials). */
const FERRY_SESSION = `arn:aws:sts::${TOOLING_ACCOUNT_ID}:assumed-role/ferry-execution/ferry-lambda`;
const BILLING = { accountId: '444444444444', region: 'eu-west-1', functionName: 'billing', alias: 'live' };

const inputOf = (fixture: JobEvent) => {
  const artifacts = fixture['CodePipeline.job'].data.inputArtifacts as {
    name: string;
    location: { s3Location: { bucketName: string; objectKey: string } };
  }[];
  const first = artifacts[0];
  if (!first) throw new Error('fixture without input artifact');
  return { name: first.name, bucket: first.location.s3Location.bucketName, key: first.location.s3Location.objectKey };
};
const paramsOf = (fixture: JobEvent): string =>
  (fixture['CodePipeline.job'].data.actionConfiguration as { configuration: { UserParameters: string } }).configuration
    .UserParameters;

let world: UnitWorld;
let log: ReturnType<typeof recordLog>;
let runtime: Runtime;
/** Every request ferry (or anyone) made, as the sandbox saw it. */
let requests: InterceptedRequest[];
/** Secrets of every job event handed to the handler: none may reach a log line. */
let secrets: string[];

beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
  world.world.sandbox.createBucket({ accountId: TOOLING_ACCOUNT_ID, name: PIPELINE_BUCKET, versioning: true });
  requests = [];
  world.world.sandbox.intercept((request) => {
    requests.push(request);
  });
  secrets = [world.world.env.AWS_SECRET_ACCESS_KEY ?? '', world.world.env.AWS_SESSION_TOKEN ?? ''];
  log = recordLog();
  runtime = world.runtime;
});

afterEach(async () => {
  // Whatever happened, neither the event's credentials nor ferry's reached a log line.
  const logged = JSON.stringify(log.lines);
  for (const secret of secrets) expect(logged).not.toContain(secret);
  await world.stop();
});

/**
 * The job CodePipeline sends for a fixture: its parameters and input artifact, with a job id and
 * artifact credentials the sandbox issued (read access to the input artifact only).
 */
function jobFor(fixture: JobEvent, options: { userParameters?: string | null; token?: string } = {}): JobEvent {
  const parameters = options.userParameters === undefined ? paramsOf(fixture) : options.userParameters;
  const created = world.world.sandbox.codepipeline.createJob({
    accountId: TOOLING_ACCOUNT_ID,
    functionName: 'ferry-dev-codepipeline-action',
    ...(parameters === null ? {} : { userParameters: parameters }),
    inputArtifacts: [inputOf(fixture)],
    ...(options.token === undefined ? {} : { continuationToken: options.token }),
  }) as unknown as JobEvent;
  const credentials = created['CodePipeline.job'].data.artifactCredentials;
  secrets.push(credentials?.secretAccessKey ?? '', credentials?.sessionToken ?? '');
  return created;
}

function handlerUnderTest(overrides: { getRuntime?: () => Runtime } = {}) {
  return createCodePipelineActionHandler({
    getRuntime: overrides.getRuntime ?? (() => runtime),
    // ferry reports as its own execution role, from the environment the world set (as in the Lambda).
    getReporter: () => createPipelineJobPort(new CodePipelineClient({ region: 'eu-west-1', ...world.world.sdk })),
    log,
    safetyMarginMs: 1_000,
  });
}

const plenty = { getRemainingTimeInMillis: () => 600_000 };

async function putInput(fixture: JobEvent, body: Buffer): Promise<void> {
  const { bucket, key } = inputOf(fixture);
  await world.world.s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

const resultOf = (event: JobEvent) => world.world.sandbox.codepipeline.getJobResult(event['CodePipeline.job'].id);
const success = (event: JobEvent) =>
  resultOf(event)?.success as
    | {
        outputVariables?: Record<string, string>;
        executionDetails?: { summary?: string; percentComplete?: number };
        continuationToken?: string;
      }
    | undefined;
const failure = (event: JobEvent) =>
  resultOf(event)?.failure as { failureDetails?: { type?: string; message?: string } } | undefined;
const reportCount = () =>
  world.world.sandbox.countRequests({ service: 'codepipeline', operation: 'PutJobSuccessResult' }) +
  world.world.sandbox.countRequests({ service: 'codepipeline', operation: 'PutJobFailureResult' });
const lambdaWrites = () =>
  world.world.sandbox
    .requests({ service: 'lambda' })
    .filter((r) => !/^(Get|List)/.test(r.operation))
    .map((r) => r.operation);
const objectsIn = (prefix: string) => world.world.sandbox.s3.listObjectKeys(BUCKET, prefix);

describe('codepipeline-action handler', () => {
  it('deploys the input artifact, pins it in ferry bucket and reports success with output variables', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "billing";' }]);
    await putInput(singleFixture, zip);
    const event = jobFor(singleFixture);
    const jobId = event['CodePipeline.job'].id;

    const result = await handlerUnderTest()(event, plenty);

    expect(result).toEqual({ jobId, result: 'success' });
    expect(reportCount()).toBe(1);
    expect(resultOf(event)?.status).toBe('Succeeded');
    expect(success(event)).toMatchObject({
      outputVariables: {
        build: '2026.11.22-42',
        checksum: sha256(zip),
        version: '1',
        previousVersion: 'none',
        alias: 'live',
      },
      executionDetails: { percentComplete: 100 },
    });
    expect(success(event)?.continuationToken).toBeUndefined();
    expect(success(event)?.executionDetails?.summary).toMatch(
      /billing-api build 2026\.11\.22-42 .* to prod: 1 deployed/,
    );
    expect(world.fn(BILLING).latest.codeSha256).toBe(sha256(zip));

    // The input artifact was read with the job's credentials, never ferry's.
    const input = inputOf(singleFixture);
    const reads = requests.filter((r) => r.operation === 'GetObject' && r.path === `/${input.bucket}/${input.key}`);
    expect(reads.map((r) => r.callerArn)).toEqual([
      `arn:aws:sts::${TOOLING_ACCOUNT_ID}:assumed-role/CodePipelineArtifactAccess/${jobId}`,
    ]);
    // The copy went to ferry's bucket under the convention key, with ferry's credentials and metadata.
    const copyKey = 'artifacts/billing-api/2026.11.22-42.zip';
    const copies = requests.filter((r) => r.operation === 'PutObject' && r.path === `/${BUCKET}/${copyKey}`);
    expect(copies.map((r) => r.callerArn)).toEqual([FERRY_SESSION]);
    const pinned = world.world.sandbox.s3.describeObject(BUCKET, copyKey);
    expect(pinned?.body).toEqual(zip);
    expect(pinned?.metadata).toMatchObject({ 'ferry-trigger': 'pipeline', 'pipeline-job-id': jobId });
    // The deployment read the pinned object version.
    expect(
      requests.some(
        (r) =>
          r.operation === 'GetObject' && r.path === `/${BUCKET}/${copyKey}` && r.query.versionId === pinned?.versionId,
      ),
    ).toBe(true);
    const logged = log.lines.find((l) => l.message === 'pipeline job reported');
    expect(logged?.attributes).toMatchObject({ jobId, app: 'billing-api' });
  });

  it('extracts the function zip from the path inside the input artifact', async () => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "orders";' }]);
    const outer = await makeZip([
      { name: 'README.md', content: 'build output' },
      { name: 'dist/orders-api.zip', content: inner, compress: true },
    ]);
    await putInput(continuedFixture, outer);
    const event = jobFor(continuedFixture);

    await handlerUnderTest()(event, plenty);

    expect(success(event)?.outputVariables).toMatchObject({ checksum: sha256(inner), targetCount: '2' });
    for (const accountId of ['222222222222', '333333333333']) {
      expect(world.fn({ accountId, region: 'eu-west-1', functionName: 'orders-api' }).latest.codeSha256).toBe(
        sha256(inner),
      );
    }
    // No build given: derived from the execution id, so later runs sort after earlier ones.
    expect(success(event)?.outputVariables?.build).toMatch(/^\d{8}T\d{6}-7c4e2d1a$/);
  });

  it.each([
    {
      name: 'names the path twice (another extractor would take the other copy)',
      entries: (inner: Buffer, evil: Buffer) => [
        { name: 'dist/orders-api.zip', content: evil },
        { name: 'dist/orders-api.zip', content: inner },
      ],
      code: 'ARTIFACT_DUPLICATE_ENTRY',
    },
    {
      name: 'has two directory records pointing at one entry',
      entries: (inner: Buffer, evil: Buffer) => [
        { name: 'dist/orders-api.zip', content: inner },
        { name: 'dist/other.zip', content: evil },
      ],
      options: { pointAt: { 1: 0 } },
      code: 'ARTIFACT_HEADER_MISMATCH',
    },
    {
      name: 'declares a size its entry does not have',
      entries: (inner: Buffer) => [
        { name: 'README.md', content: Buffer.alloc(64 * 1024), declared: { uncompressedSize: 100 } },
        { name: 'dist/orders-api.zip', content: inner },
      ],
      code: 'ARTIFACT_CONTENT_MISMATCH',
    },
  ])('fails the job when the input artifact that holds the zip $name, and deploys nothing', async (c) => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "orders";' }]);
    const evil = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "evil";' }]);
    await putInput(continuedFixture, buildZip(c.entries(inner, evil), c.options ?? {}));
    const event = jobFor(continuedFixture);

    await handlerUnderTest()(event, plenty);

    const message = failure(event)?.failureDetails?.message ?? '';
    expect(message).toContain(c.code);
    expect(message).toContain("the zip that holds 'dist/orders-api.zip', is refused");
    expect(success(event)).toBeUndefined();
    for (const accountId of ['222222222222', '333333333333']) {
      expect(world.fn({ accountId, region: 'eu-west-1', functionName: 'orders-api' }).latest.codeSha256).not.toBe(
        sha256(inner),
      );
    }
  });

  it('fails the job with the expected form when UserParameters are bad, and deploys nothing', async () => {
    const cases = ['not json', '{"app":"billing-api"}', '{"app":"billing-api","stage":"prod","tragets":["x"]}'];
    let last: JobEvent | undefined;
    for (const parameters of cases) {
      const event = jobFor(singleFixture, { userParameters: parameters });
      await handlerUnderTest()(event, plenty);
      expect(resultOf(event)?.status, parameters).toBe('Failed');
      expect(failure(event)?.failureDetails?.type).toBe('ConfigurationError');
      expect(failure(event)?.failureDetails?.message).toMatch(/Expected JSON of the form \{"app": "<app>", "stage"/);
      last = event;
    }
    expect(reportCount()).toBe(cases.length);
    expect(last && failure(last)?.failureDetails?.message).toMatch(/unknown key 'tragets'/);
    expect(lambdaWrites()).toEqual([]);
    // Nothing staged: the only writes are the ledger's records of the refusals.
    expect(world.world.sandbox.s3.listObjectKeys(BUCKET).filter((k) => !k.startsWith('ledger/'))).toEqual([]);
  });

  it('fails the job naming the known apps when the app is not configured', async () => {
    const event = jobFor(singleFixture, { userParameters: '{"app":"payments","stage":"prod"}' });
    await handlerUnderTest()(event, plenty);
    expect(failure(event)?.failureDetails).toMatchObject({ type: 'ConfigurationError' });
    expect(failure(event)?.failureDetails?.message).toMatch(/No app 'payments'.*Known apps: orders-api, billing-api/);
    expect(requests.filter((r) => r.operation === 'GetObject')).toEqual([]);
  });

  it('fails the job when the input artifact is missing, saying S3 answers AccessDenied for it', async () => {
    const event = jobFor(singleFixture);
    await handlerUnderTest()(event, plenty);
    expect(reportCount()).toBe(1);
    // The job's credentials may not list the bucket, so S3 answers 403 rather than 404 for a missing key.
    expect(failure(event)?.failureDetails?.message).toMatch(
      /input artifact 'BuildOutput' \(s3:\/\/codepipeline-eu-west-1-123456789012\/billing-pipeline\/BuildOutput\/Xk3pQ9r\.zip\) cannot be read with the job's artifact credentials: it does not exist/,
    );
    expect(lambdaWrites()).toEqual([]);
  });

  it('fails the job with a bounded message when the deployment fails', async () => {
    await putInput(singleFixture, await makeZip([{ name: 'index.mjs', content: 'x' }]));
    world.world.sandbox.faults.add({
      service: 'lambda',
      operation: 'UpdateFunctionCode',
      error: { code: 'InvalidParameterValueException', status: 400, message: `Layer conflict: ${'x'.repeat(6000)}` },
      times: 10,
    });
    const event = jobFor(singleFixture);

    const result = await handlerUnderTest()(event, plenty);

    expect(result.result).toBe('failure');
    expect(reportCount()).toBe(1);
    const details = failure(event)?.failureDetails;
    expect(details?.type).toBe('JobFailed');
    expect(details?.message).toMatch(/^billing-api build 2026\.11\.22-42 to prod failed on 1 of 1 targets/);
    expect(details?.message?.length).toBeLessThanOrEqual(5000);
    expect(details?.message).toMatch(/\(truncated\)$/);
    expect(lambdaWrites()).not.toContain('PublishVersion');
  });

  it('still reports a failure when something unexpected throws', async () => {
    const handler = handlerUnderTest({
      getRuntime: () => {
        throw new TypeError('Cannot read properties of undefined');
      },
    });
    const event = jobFor(singleFixture);
    const result = await handler(event, plenty);
    expect(result.result).toBe('failure');
    expect(failure(event)?.failureDetails).toEqual({
      type: 'JobFailed',
      message: 'ferry failed unexpectedly: TypeError: Cannot read properties of undefined',
    });
    expect(log.lines.find((l) => l.message === 'pipeline job failed')?.level).toBe('error');
  });

  it('throws when the report itself cannot be sent, so the failure is visible', async () => {
    world.world.sandbox.faults.add({
      service: 'codepipeline',
      operation: 'PutJobFailureResult',
      error: { code: 'InvalidJobStateException', status: 400, message: 'Job is in state Failed' },
    });
    await expect(handlerUnderTest()(jobFor(singleFixture), plenty)).rejects.toThrowError(/no longer accepts a result/);
  });

  it('throws without reporting when the event has no job id', async () => {
    await expect(handlerUnderTest()({ Records: [] }, plenty)).rejects.toThrowError(/not a CodePipeline job/);
    expect(reportCount()).toBe(0);
  });

  it('continues through a token when time runs short and never redoes a finished target', async () => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "v2";' }]);
    await putInput(continuedFixture, await makeZip([{ name: 'dist/orders-api.zip', content: inner }]));
    const first = jobFor(continuedFixture);
    // Enough time after staging to deploy and start the first target (concurrency 1), then too little
    // to start the second one: it is deferred to the next invocation, untouched.
    const remaining = [600_000, 600_000, 500];
    const shortOnTime = { getRemainingTimeInMillis: () => remaining.shift() ?? 500 };

    expect((await handlerUnderTest()(first, shortOnTime)).result).toBe('continue');

    const progress = success(first);
    expect(progress?.continuationToken).toMatch(/^ferry1\./);
    expect(progress?.outputVariables).toBeUndefined();
    expect(progress?.executionDetails).toMatchObject({ percentComplete: 50 });
    expect(progress?.executionDetails?.summary).toMatch(/1 of 2 targets done/);
    const deployedInto = () => [...new Set(lambdaWritesByAccount())];
    expect(deployedInto()).toEqual(['222222222222']);
    // The deferred target is not in the invocation's one ledger entry.
    const entries = () =>
      objectsIn('ledger/orders-api/')
        .filter((k) => k.includes('/entries/'))
        .map((k) => world.readJson<LedgerEntry>(k) as LedgerEntry);
    expect(entries().map((e) => e.targets.map((t) => t.account))).toEqual([['222222222222']]);
    // Half the stage is not a success: nothing says `succeeded` until the last target is done.
    const states = () => world.world.sandbox.eventbridge.captured({ source: 'ferry' }).map((e) => e.detail.state);
    expect(states()).not.toContain('succeeded');

    // CodePipeline invokes the function again with the token, as a new job; it may land in a fresh
    // container, so nothing cached carries over.
    const second = resultOf(first)?.continuation as unknown as JobEvent;
    expect(second['CodePipeline.job'].data.continuationToken).toBe(progress?.continuationToken);
    const seen = requests.length;
    const logged = log.lines.length;
    runtime = world.newRuntime();
    expect((await handlerUnderTest()(second, plenty)).result).toBe('success');

    // Only the unfinished target is deployed (the finished one's alias is only read: the token is
    // not trusted); the input artifact is neither read nor copied again.
    const later = requests.slice(seen);
    const lambdaLater = later.filter((r) => r.service === 'lambda');
    const written = lambdaLater.filter((r) => !/^(Get|List)/.test(r.operation)).map((r) => r.accountId);
    expect([...new Set(written)]).toEqual(['333333333333']);
    const finished = lambdaLater.filter((r) => r.accountId === '222222222222').map((r) => r.operation);
    expect(finished).toContain('GetAlias');
    expect(finished.filter((op) => !/^(Get|List)/.test(op))).toEqual([]);
    const targetLines = log.lines.slice(logged).filter((l) => l.message.startsWith('target '));
    expect(targetLines.map((l) => l.attributes.account)).toEqual(['333333333333']);
    expect(later.some((r) => r.operation === 'GetObject' && r.path.startsWith(`/${PIPELINE_BUCKET}/`))).toBe(false);
    expect(later.some((r) => r.operation === 'PutObject' && r.path.endsWith('.zip'))).toBe(false);
    expect(
      entries()
        .map((e) => e.targets.map((t) => t.account))
        .sort(),
    ).toEqual([['222222222222'], ['333333333333']]);
    const final = success(second);
    expect(final?.continuationToken).toBeUndefined();
    expect(states().filter((state) => state === 'succeeded')).toHaveLength(1);
    expect(final?.outputVariables).toMatchObject({
      checksum: sha256(inner),
      targetCount: '2',
      '222222222222_eu-west-1_orders-api_version': '1',
      '222222222222_eu-west-1_orders-api_previousVersion': 'none',
      '222222222222_eu-west-1_orders-api_alias': 'live',
      '333333333333_eu-west-1_orders-api_version': '1',
      '333333333333_eu-west-1_orders-api_alias': 'live',
    });
  });

  it('prepares the artifact once and writes one ledger entry for a job with more targets than concurrency', async () => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "v3";' }]);
    await putInput(continuedFixture, await makeZip([{ name: 'dist/orders-api.zip', content: inner }]));
    const event = jobFor(continuedFixture);

    // concurrency 1, two targets: one deployment, not one per batch.
    expect((await handlerUnderTest()(event, plenty)).result).toBe('success');

    expect([...new Set(lambdaWritesByAccount())].sort()).toEqual(['222222222222', '333333333333']);
    const artifactReads = requests.filter(
      (r) => r.operation === 'GetObject' && r.path.startsWith(`/${BUCKET}/artifacts/orders-api/`),
    );
    expect(artifactReads).toHaveLength(1);
    const entries = objectsIn('ledger/orders-api/')
      .filter((k) => k.includes('/entries/'))
      .map((k) => world.readJson<LedgerEntry>(k) as LedgerEntry);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ stage: 'dev', trigger: 'pipeline', outcome: 'succeeded' });
    expect(entries[0]?.targets.map((t) => t.account).sort()).toEqual(['222222222222', '333333333333']);
  });

  it('continues with every target, recording nothing, when time runs out before the first target starts', async () => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "v4";' }]);
    await putInput(continuedFixture, await makeZip([{ name: 'dist/orders-api.zip', content: inner }]));
    const first = jobFor(continuedFixture);
    const remaining = [600_000, 500];
    const shortOnTime = { getRemainingTimeInMillis: () => remaining.shift() ?? 500 };

    expect((await handlerUnderTest()(first, shortOnTime)).result).toBe('continue');

    expect(success(first)?.executionDetails?.summary).toMatch(/0 of 2 targets done/);
    expect(lambdaWrites()).toEqual([]);
    expect(objectsIn('ledger/orders-api/').filter((k) => k.includes('/entries/'))).toEqual([]);

    const second = resultOf(first)?.continuation as unknown as JobEvent;
    runtime = world.newRuntime();
    expect((await handlerUnderTest()(second, plenty)).result).toBe('success');
    expect([...new Set(lambdaWritesByAccount())].sort()).toEqual(['222222222222', '333333333333']);
  });

  it('fails clearly on a garbled continuation token', async () => {
    const event = jobFor(continuedFixture, { token: 'ferry1.eyJiIjoiMSJ9.AAAAAAAAAAAAAAAA' });
    await handlerUnderTest()(event, plenty);
    expect(failure(event)?.failureDetails?.type).toBe('ConfigurationError');
    expect(failure(event)?.failureDetails?.message).toMatch(
      /continuation token is not one this version of ferry wrote/,
    );
    expect(lambdaWrites()).toEqual([]);
  });
});

/** Accounts that received a Lambda write, in order. */
function lambdaWritesByAccount(): string[] {
  return world.world.sandbox
    .requests({ service: 'lambda' })
    .filter((r) => !/^(Get|List)/.test(r.operation))
    .map((r) => r.accountId ?? '');
}

describe('codepipeline-action: refused jobs reach the ledger', () => {
  const INPUT_KEY = 'billing-pipeline/BuildOutput/Xk3pQ9r.zip';

  /** Ledger entries under a prefix, parsed. */
  const ledger = (prefix: string): LedgerEntry[] =>
    objectsIn(prefix)
      .filter((k) => k.includes('/entries/'))
      .map((k) => world.readJson<LedgerEntry>(k) as LedgerEntry);
  const allEntries = () => ledger('ledger/');

  it.each([
    {
      name: 'not JSON',
      parameters: 'not json',
      prefix: 'ledger/_rejected/',
      where: { app: '_rejected' },
    },
    {
      name: 'a missing stage, under the app it names',
      parameters: '{"app":"billing-api"}',
      prefix: 'ledger/billing-api/_upload/',
      where: { app: 'billing-api', stage: '_upload' },
    },
    {
      name: 'an unknown key, under the app and stage it names',
      parameters: '{"app":"billing-api","stage":"prod","tragets":["x"]}',
      prefix: 'ledger/billing-api/prod/',
      where: { app: 'billing-api', stage: 'prod' },
    },
    {
      name: 'an app that is not configured, under _rejected',
      parameters: '{"app":"payments","stage":"prod"}',
      prefix: 'ledger/_rejected/',
      where: { app: '_rejected', code: 'UNKNOWN_APP' },
    },
    {
      name: 'an app named like an object property, under _rejected',
      parameters: '{"app":"constructor","stage":"prod"}',
      prefix: 'ledger/_rejected/',
      where: { app: '_rejected', code: 'UNKNOWN_APP' },
    },
  ])(
    'bad UserParameters ($name) are recorded with trigger pipeline and the job id',
    async ({ parameters, prefix, where }) => {
      const event = jobFor(singleFixture, { userParameters: parameters });
      await handlerUnderTest()(event, plenty);

      expect(failure(event)?.failureDetails?.type).toBe('ConfigurationError');
      const entries = allEntries();
      expect(entries).toHaveLength(1);
      expect(ledger(prefix)).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        outcome: 'rejected',
        trigger: 'pipeline',
        pipeline: { jobId: event['CodePipeline.job'].id },
        targets: [],
        source: { bucket: PIPELINE_BUCKET, key: INPUT_KEY },
        code: expect.stringMatching(/^(PIPELINE_PARAMETERS_INVALID|UNKNOWN_APP)$/),
        ...where,
      });
      expect(entries[0]?.reason).toBe(failure(event)?.failureDetails?.message);
      expect(lambdaWrites()).toEqual([]);
    },
  );

  it('a missing input artifact is recorded under the app and stage, naming the build and the artifact', async () => {
    const event = jobFor(singleFixture);
    const job = event['CodePipeline.job'].id;
    await handlerUnderTest()(event, plenty);

    expect(failure(event)?.failureDetails?.message).toMatch(/it does not exist \(S3 answers AccessDenied/);
    const [entry, ...others] = ledger('ledger/billing-api/prod/');
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      app: 'billing-api',
      stage: 'prod',
      build: '2026.11.22-42',
      outcome: 'rejected',
      code: 'PIPELINE_ARTIFACT_ACCESS_DENIED',
      trigger: 'pipeline',
      pipeline: { jobId: job, executionId: job },
      source: { bucket: PIPELINE_BUCKET, key: INPUT_KEY },
      caller: FERRY_SESSION,
    });
  });

  it('an action without an input artifact is recorded', async () => {
    const event = jobFor(singleFixture);
    event['CodePipeline.job'].data.inputArtifacts = [];
    const job = event['CodePipeline.job'].id;
    await handlerUnderTest()(event, plenty);

    expect(failure(event)?.failureDetails?.message).toMatch(/no input artifact/);
    expect(ledger('ledger/billing-api/prod/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        code: 'PIPELINE_NO_INPUT_ARTIFACT',
        pipeline: { jobId: job, executionId: job },
      }),
    ]);
  });

  it.each([
    { name: 'a corrupt zip', body: async () => Buffer.from('this is not a zip at all'), code: 'ARTIFACT_CORRUPT' },
    {
      name: 'a zip with a .. entry',
      body: async () => {
        const { patchZipEntry } = await import('../../support/zips.js');
        return patchZipEntry(await makeZip([{ name: 'aa/evil.js', content: 'x' }]), 0, { name: '../evil.js' });
      },
      code: 'ARTIFACT_UNSAFE_PATH',
    },
    {
      name: 'an oversize zip',
      body: async () => makeZip([{ name: 'big.bin', size: 4096, compress: false }]),
      code: 'ARTIFACT_TOO_LARGE',
      limits: { maxArtifactBytes: 1024 },
    },
  ])('$name is recorded as rejected, and nothing is staged or deployed', async ({ body, code, limits }) => {
    if (limits) runtime = world.newRuntime({ config: { ...rawConfig, limits } });
    await putInput(singleFixture, await body());
    const event = jobFor(singleFixture);

    await handlerUnderTest()(event, plenty);

    expect(reportCount()).toBe(1);
    expect(failure(event)?.failureDetails?.message).toContain(code);
    expect(ledger('ledger/billing-api/prod/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        code,
        build: '2026.11.22-42',
        trigger: 'pipeline',
        pipeline: expect.objectContaining({ jobId: event['CodePipeline.job'].id }),
      }),
    ]);
    expect(objectsIn('artifacts/')).toEqual([]);
    expect(lambdaWrites()).toEqual([]);
  });

  it('a malformed job event with a job id is recorded under _rejected', async () => {
    const event = jobFor(singleFixture);
    delete event['CodePipeline.job'].data.artifactCredentials;
    await handlerUnderTest()(event, plenty);

    expect(failure(event)?.failureDetails?.message).toMatch(/PIPELINE_EVENT_INVALID/);
    expect(ledger('ledger/_rejected/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        code: 'PIPELINE_EVENT_INVALID',
        pipeline: { jobId: event['CodePipeline.job'].id },
      }),
    ]);
  });

  it('a garbled continuation token is recorded with the job id', async () => {
    const event = jobFor(continuedFixture, { token: 'ferry1.eyJiIjoiMSJ9.AAAAAAAAAAAAAAAA' });
    await handlerUnderTest()(event, plenty);
    expect(ledger('ledger/orders-api/dev/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        trigger: 'pipeline',
        pipeline: expect.objectContaining({ jobId: event['CodePipeline.job'].id }),
      }),
    ]);
  });

  it('a ledger that cannot be written does not stop the failure report', async () => {
    world.world.sandbox.faults.add({
      service: 's3',
      operation: 'PutObject',
      error: { code: 'ServiceUnavailable', status: 503, message: 'down' },
    });
    const refused = jobFor(singleFixture, { userParameters: 'not json' });
    const missing = jobFor(singleFixture);

    const result = await handlerUnderTest()(refused, plenty);
    await handlerUnderTest()(missing, plenty);

    expect(result.result).toBe('failure');
    expect(reportCount()).toBe(2);
    const logged = log.lines.filter((l) => l.message === 'could not record the rejected pipeline job in the ledger');
    expect(logged.map((l) => [l.level, l.attributes.jobId])).toEqual([
      ['error', refused['CodePipeline.job'].id],
      ['error', missing['CodePipeline.job'].id],
    ]);
  });

  it('a deployment refused by the engine is recorded once, not again by the action', async () => {
    await putInput(singleFixture, await makeZip([{ name: 'index.mjs', content: 'x' }]));
    world.world.sandbox.faults.add({
      service: 'lambda',
      operation: 'UpdateFunctionCode',
      error: { code: 'InvalidParameterValueException', status: 400, message: 'Layer conflict' },
      times: 10,
    });
    await handlerUnderTest()(jobFor(singleFixture), plenty);
    expect(allEntries().map((e) => e.outcome)).toEqual(['failed']);
  });
});
