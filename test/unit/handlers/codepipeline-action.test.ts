import { readFileSync } from 'node:fs';
import {
  CodePipelineClient,
  InvalidJobStateException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import {
  InvalidParameterValueException,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPipelineJobPort } from '../../../src/aws/codepipeline.js';
import { parseConfig } from '../../../src/core/config.js';
import type { LedgerEntry } from '../../../src/core/ledger-model.js';
import { createCodePipelineActionHandler } from '../../../src/handlers/codepipeline-action.js';
import { createRuntime, type Runtime } from '../../../src/runtime/create-runtime.js';
import { createFakeLambda, type FakeLambda, sha256 } from '../../support/fake-lambda.js';
import { recordLog } from '../../support/record-log.js';
import { makeZip } from '../../support/zips.js';
import { createFakeS3, type FakeS3 } from './codepipeline-fake-s3.js';

type JobEvent = { 'CodePipeline.job': { id: string; data: Record<string, unknown> } };

const load = (name: string) =>
  JSON.parse(readFileSync(`test/fixtures/events/${name}`, 'utf8')) as JobEvent & Record<string, unknown>;
const singleFixture = load('codepipeline-job.json');
const continuedFixture = load('codepipeline-job-continued.json');
const SECRETS = [
  'ASIAPIPELINEEXAMPLE1',
  'pipeline-secret-wJalrXUtnFEMI',
  'pipeline-session-token-IQoJb3',
  'ASIAPIPELINEEXAMPLE2',
  'pipeline-secret-2-wJalrXUtnFEMI',
  'pipeline-session-token-2-IQoJb3',
  'never-logged-ferry-secret',
];

const BUCKET = 'ferry-artifacts-111111111111';
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
const config = parseConfig(rawConfig);

const s3Input = (fixture: JobEvent) => {
  const artifacts = fixture['CodePipeline.job'].data.inputArtifacts as {
    location: { s3Location: { bucketName: string; objectKey: string } };
  }[];
  const location = artifacts[0]?.location.s3Location;
  if (!location) throw new Error('fixture without input artifact');
  return { bucket: location.bucketName, key: location.objectKey };
};

function withParameters(fixture: JobEvent, userParameters: string | undefined, token?: string): JobEvent {
  const event = structuredClone(fixture);
  const data = event['CodePipeline.job'].data as {
    actionConfiguration: { configuration: Record<string, unknown> };
    continuationToken?: string;
  };
  if (userParameters === undefined) delete data.actionConfiguration.configuration.UserParameters;
  else data.actionConfiguration.configuration.UserParameters = userParameters;
  if (token === undefined) delete data.continuationToken;
  else data.continuationToken = token;
  return event;
}

const codepipeline = mockClient(CodePipelineClient);
const sts = mockClient(STSClient);
let s3: FakeS3;
let fake: FakeLambda;
let log: ReturnType<typeof recordLog>;
let runtime: Runtime;

function handlerUnderTest(overrides: { getRuntime?: () => Runtime } = {}) {
  return createCodePipelineActionHandler({
    getRuntime: overrides.getRuntime ?? (() => runtime),
    getReporter: () => createPipelineJobPort(new CodePipelineClient({ region: 'eu-west-1' })),
    log,
    safetyMarginMs: 1_000,
  });
}

const plenty = { getRemainingTimeInMillis: () => 600_000 };

function success() {
  const call = codepipeline.commandCalls(PutJobSuccessResultCommand)[0];
  return call?.args[0].input;
}
function failure() {
  const call = codepipeline.commandCalls(PutJobFailureResultCommand)[0];
  return call?.args[0].input;
}
function reportCount() {
  return (
    codepipeline.commandCalls(PutJobSuccessResultCommand).length +
    codepipeline.commandCalls(PutJobFailureResultCommand).length
  );
}

beforeEach(() => {
  fake = createFakeLambda();
  fake.readS3Code = (bucket, key, versionId) => s3.version(bucket, key, versionId)?.body;
  s3 = createFakeS3();
  codepipeline.reset();
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAFERRYTARGET',
      SecretAccessKey: 'never-logged-ferry-secret',
      SessionToken: 'ferry-session',
      Expiration: new Date(Date.now() + 3600_000),
    },
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111111111111:assumed-role/ferry-exec/ferry' });
  log = recordLog();
  runtime = createRuntime(config, { sleep: async () => {}, random: () => 0, env: {} });
});

afterEach(() => {
  // Whatever happened, neither the event's credentials nor ferry's reached a log line.
  const logged = JSON.stringify(log.lines);
  for (const secret of SECRETS) expect(logged).not.toContain(secret);
  fake.mock.restore();
  s3.mock.restore();
});

async function credentialsOf(client: unknown): Promise<{ accessKeyId: string }> {
  const provider = (client as S3Client).config.credentials;
  return provider();
}

describe('codepipeline-action handler', () => {
  it('deploys the input artifact, pins it in ferry bucket and reports success with output variables', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "billing";' }]);
    const input = s3Input(singleFixture);
    s3.put(input.bucket, input.key, zip);

    const result = await handlerUnderTest()(singleFixture, plenty);

    expect(result).toEqual({ jobId: '11111111-abcd-1111-abcd-111111abcdef', result: 'success' });
    expect(reportCount()).toBe(1);
    expect(success()).toMatchObject({
      jobId: '11111111-abcd-1111-abcd-111111abcdef',
      outputVariables: {
        build: '2026.11.22-42',
        checksum: sha256(zip),
        version: '1',
        previousVersion: 'none',
        alias: 'live',
      },
      executionDetails: { percentComplete: 100 },
    });
    expect(success()?.continuationToken).toBeUndefined();
    expect(success()?.executionDetails?.summary).toMatch(/billing-api build 2026\.11\.22-42 .* to prod: 1 deployed/);
    expect(fake.fn.codeSha256).toBe(sha256(zip));

    // The input artifact was read with the job's credentials, never ferry's.
    const reads = s3.mock.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Bucket === input.bucket);
    expect(reads).toHaveLength(1);
    expect((await credentialsOf(reads[0]?.thisValue)).accessKeyId).toBe('ASIAPIPELINEEXAMPLE1');
    // The copy went to ferry's bucket under the convention key, with ferry's credentials and a checksum.
    const copy = s3.mock
      .commandCalls(PutObjectCommand)
      .find((c) => c.args[0].input.Key === 'artifacts/billing-api/2026.11.22-42.zip');
    expect(copy?.args[0].input).toMatchObject({
      Bucket: BUCKET,
      ChecksumSHA256: sha256(zip),
      Metadata: { 'ferry-trigger': 'pipeline', 'pipeline-job-id': '11111111-abcd-1111-abcd-111111abcdef' },
    });
    expect((await credentialsOf(copy?.thisValue)).accessKeyId).not.toMatch(/^ASIAPIPELINE/);
    // The deployment used the pinned object version.
    const pinned = s3.latest(BUCKET, 'artifacts/billing-api/2026.11.22-42.zip');
    expect(
      s3.mock
        .commandCalls(GetObjectCommand)
        .some((c) => c.args[0].input.Bucket === BUCKET && c.args[0].input.VersionId === pinned?.versionId),
    ).toBe(true);
    const logged = log.lines.find((l) => l.message === 'pipeline job reported');
    expect(logged?.attributes).toMatchObject({ jobId: singleFixture['CodePipeline.job'].id, app: 'billing-api' });
  });

  it('extracts the function zip from the path inside the input artifact', async () => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "orders";' }]);
    const outer = await makeZip([
      { name: 'README.md', content: 'build output' },
      { name: 'dist/orders-api.zip', content: inner, compress: true },
    ]);
    const input = s3Input(continuedFixture);
    s3.put(input.bucket, input.key, outer);

    await handlerUnderTest()(withParameters(continuedFixture, paramsOf(continuedFixture)), plenty);

    expect(success()?.outputVariables).toMatchObject({ checksum: sha256(inner), targetCount: '2' });
    expect(fake.fn.codeSha256).toBe(sha256(inner));
    // No build given: derived from the execution id, so later runs sort after earlier ones.
    expect(success()?.outputVariables?.build).toMatch(/^\d{8}T\d{6}-7c4e2d1a$/);
  });

  it('fails the job with the expected form when UserParameters are bad, and deploys nothing', async () => {
    const cases = ['not json', '{"app":"billing-api"}', '{"app":"billing-api","stage":"prod","tragets":["x"]}'];
    for (const parameters of cases) {
      codepipeline.resetHistory();
      await handlerUnderTest()(withParameters(singleFixture, parameters), plenty);
      expect(reportCount()).toBe(1);
      expect(failure()?.failureDetails?.type).toBe('ConfigurationError');
      expect(failure()?.failureDetails?.message).toMatch(/Expected JSON of the form \{"app": "<app>", "stage"/);
    }
    expect(failure()?.failureDetails?.message).toMatch(/unknown key 'tragets'/);
    expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    // Nothing staged: the only writes are the ledger's records of the refusals.
    expect(s3.keys(BUCKET).filter((k) => !k.startsWith('ledger/'))).toEqual([]);
  });

  it('fails the job naming the known apps when the app is not configured', async () => {
    await handlerUnderTest()(withParameters(singleFixture, '{"app":"payments","stage":"prod"}'), plenty);
    expect(failure()?.failureDetails).toMatchObject({ type: 'ConfigurationError' });
    expect(failure()?.failureDetails?.message).toMatch(/No app 'payments'.*Known apps: orders-api, billing-api/);
    expect(s3.mock).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('fails the job when the input artifact is missing', async () => {
    await handlerUnderTest()(singleFixture, plenty);
    expect(reportCount()).toBe(1);
    expect(failure()?.failureDetails?.message).toMatch(
      /input artifact 'BuildOutput' \(s3:\/\/codepipeline-eu-west-1-123456789012\/billing-pipeline\/BuildOutput\/Xk3pQ9r\.zip\) does not exist/,
    );
    expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });

  it('fails the job with a bounded message when the deployment fails', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
    const input = s3Input(singleFixture);
    s3.put(input.bucket, input.key, zip);
    fake.failNext(
      'UpdateFunctionCode',
      new InvalidParameterValueException({ message: `Layer conflict: ${'x'.repeat(6000)}`, $metadata: {} }),
      10,
    );

    const result = await handlerUnderTest()(singleFixture, plenty);

    expect(result.result).toBe('failure');
    expect(reportCount()).toBe(1);
    const details = failure()?.failureDetails;
    expect(details?.type).toBe('JobFailed');
    expect(details?.message).toMatch(/^billing-api build 2026\.11\.22-42 to prod failed on 1 of 1 targets/);
    expect(details?.message?.length).toBeLessThanOrEqual(5000);
    expect(details?.message).toMatch(/\(truncated\)$/);
    expect(fake.mock).not.toHaveReceivedCommand(PublishVersionCommand);
  });

  it('still reports a failure when something unexpected throws', async () => {
    const handler = handlerUnderTest({
      getRuntime: () => {
        throw new TypeError('Cannot read properties of undefined');
      },
    });
    const result = await handler(singleFixture, plenty);
    expect(result.result).toBe('failure');
    expect(failure()?.failureDetails).toEqual({
      type: 'JobFailed',
      message: 'ferry failed unexpectedly: TypeError: Cannot read properties of undefined',
    });
    expect(log.lines.find((l) => l.message === 'pipeline job failed')?.level).toBe('error');
  });

  it('throws when the report itself cannot be sent, so the failure is visible', async () => {
    codepipeline
      .on(PutJobFailureResultCommand)
      .rejects(new InvalidJobStateException({ message: 'Job is in state Failed', $metadata: {} }));
    await expect(handlerUnderTest()(singleFixture, plenty)).rejects.toThrowError(/no longer accepts a result/);
  });

  it('throws without reporting when the event has no job id', async () => {
    await expect(handlerUnderTest()({ Records: [] }, plenty)).rejects.toThrowError(/not a CodePipeline job/);
    expect(reportCount()).toBe(0);
  });

  it('continues through a token when time runs short and never redoes a finished target', async () => {
    const inner = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => "v2";' }]);
    const outer = await makeZip([{ name: 'dist/orders-api.zip', content: inner }]);
    const input = s3Input(continuedFixture);
    s3.put(input.bucket, input.key, outer);
    const first = withParameters(continuedFixture, paramsOf(continuedFixture));
    // Enough time after staging for one batch (concurrency 1: one target), then too little.
    const remaining = [600_000, 500];
    const shortOnTime = { getRemainingTimeInMillis: () => remaining.shift() ?? 500 };

    expect((await handlerUnderTest()(first, shortOnTime)).result).toBe('continue');

    const progress = success();
    expect(progress?.continuationToken).toMatch(/^ferry1\./);
    expect(progress?.outputVariables).toBeUndefined();
    expect(progress?.executionDetails).toMatchObject({ percentComplete: 50 });
    expect(progress?.executionDetails?.summary).toMatch(/1 of 2 targets done/);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      'arn:aws:iam::222222222222:role/ferry-deploy',
    ]);

    codepipeline.resetHistory();
    sts.resetHistory();
    s3.mock.resetHistory();
    log.lines.length = 0;
    // The next invocation may land in a fresh container: nothing cached carries over.
    runtime = createRuntime(config, { sleep: async () => {}, random: () => 0, env: {} });
    const second = withParameters(continuedFixture, paramsOf(continuedFixture), progress?.continuationToken);
    second['CodePipeline.job'].id = '33333333-abcd-3333-abcd-333333abcdef';
    expect((await handlerUnderTest()(second, plenty)).result).toBe('success');

    // Only the unfinished target is deployed (the finished one's role is assumed only to read its
    // alias: the token is not trusted); the input artifact is neither read nor copied again.
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      'arn:aws:iam::333333333333:role/ferry-deploy',
      'arn:aws:iam::222222222222:role/ferry-deploy',
    ]);
    const targetLines = log.lines.filter((l) => l.message.startsWith('target '));
    expect(targetLines.map((l) => l.attributes.account)).toEqual(['333333333333']);
    expect(s3.mock.commandCalls(GetObjectCommand).some((c) => c.args[0].input.Bucket === input.bucket)).toBe(false);
    expect(s3.mock.commandCalls(PutObjectCommand).some((c) => c.args[0].input.Key?.endsWith('.zip'))).toBe(false);
    const final = success();
    expect(final?.jobId).toBe('33333333-abcd-3333-abcd-333333abcdef');
    expect(final?.continuationToken).toBeUndefined();
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

  it('fails clearly on a garbled continuation token', async () => {
    const event = withParameters(continuedFixture, paramsOf(continuedFixture), 'ferry1.eyJiIjoiMSJ9.AAAAAAAAAAAAAAAA');
    await handlerUnderTest()(event, plenty);
    expect(failure()?.failureDetails?.type).toBe('ConfigurationError');
    expect(failure()?.failureDetails?.message).toMatch(/continuation token is not one this version of ferry wrote/);
    expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });
});

describe('codepipeline-action: refused jobs reach the ledger', () => {
  const JOB = '11111111-abcd-1111-abcd-111111abcdef';
  const PIPELINE_BUCKET = 'codepipeline-eu-west-1-123456789012';
  const INPUT_KEY = 'billing-pipeline/BuildOutput/Xk3pQ9r.zip';

  /** Ledger entries under a prefix, parsed. */
  const ledger = (prefix: string): LedgerEntry[] =>
    s3
      .keys(BUCKET)
      .filter((k) => k.startsWith(prefix) && k.includes('/entries/'))
      .map((k) => JSON.parse(s3.latest(BUCKET, k)?.body.toString('utf8') ?? '{}') as LedgerEntry);
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
      await handlerUnderTest()(withParameters(singleFixture, parameters), plenty);

      expect(failure()?.failureDetails?.type).toBe('ConfigurationError');
      const entries = allEntries();
      expect(entries).toHaveLength(1);
      expect(ledger(prefix)).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        outcome: 'rejected',
        trigger: 'pipeline',
        pipeline: { jobId: JOB },
        targets: [],
        source: { bucket: PIPELINE_BUCKET, key: INPUT_KEY },
        code: expect.stringMatching(/^(PIPELINE_PARAMETERS_INVALID|UNKNOWN_APP)$/),
        ...where,
      });
      expect(entries[0]?.reason).toBe(failure()?.failureDetails?.message);
      expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    },
  );

  it('a missing input artifact is recorded under the app and stage, naming the build and the artifact', async () => {
    await handlerUnderTest()(singleFixture, plenty);

    expect(failure()?.failureDetails?.message).toMatch(/does not exist/);
    const [entry, ...others] = ledger('ledger/billing-api/prod/');
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      app: 'billing-api',
      stage: 'prod',
      build: '2026.11.22-42',
      outcome: 'rejected',
      code: 'PIPELINE_ARTIFACT_NOT_FOUND',
      trigger: 'pipeline',
      pipeline: { jobId: JOB, executionId: JOB },
      source: { bucket: PIPELINE_BUCKET, key: INPUT_KEY },
      caller: 'arn:aws:sts::111111111111:assumed-role/ferry-exec/ferry',
    });
  });

  it('an action without an input artifact is recorded', async () => {
    const event = structuredClone(singleFixture);
    event['CodePipeline.job'].data.inputArtifacts = [];
    await handlerUnderTest()(event, plenty);

    expect(failure()?.failureDetails?.message).toMatch(/no input artifact/);
    expect(ledger('ledger/billing-api/prod/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        code: 'PIPELINE_NO_INPUT_ARTIFACT',
        pipeline: { jobId: JOB, executionId: JOB },
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
    if (limits) {
      const small = parseConfig({ ...rawConfig, limits });
      runtime = createRuntime(small, { sleep: async () => {}, random: () => 0, env: {} });
    }
    s3.put(PIPELINE_BUCKET, INPUT_KEY, await body());

    await handlerUnderTest()(singleFixture, plenty);

    expect(reportCount()).toBe(1);
    expect(failure()?.failureDetails?.message).toContain(code);
    expect(ledger('ledger/billing-api/prod/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        code,
        build: '2026.11.22-42',
        trigger: 'pipeline',
        pipeline: expect.objectContaining({ jobId: JOB }),
      }),
    ]);
    expect(s3.keys(BUCKET).filter((k) => k.startsWith('artifacts/'))).toEqual([]);
    expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });

  it('a malformed job event with a job id is recorded under _rejected', async () => {
    const event = structuredClone(singleFixture);
    delete (event['CodePipeline.job'].data as Record<string, unknown>).artifactCredentials;
    await handlerUnderTest()(event, plenty);

    expect(failure()?.failureDetails?.message).toMatch(/PIPELINE_EVENT_INVALID/);
    expect(ledger('ledger/_rejected/')).toEqual([
      expect.objectContaining({ outcome: 'rejected', code: 'PIPELINE_EVENT_INVALID', pipeline: { jobId: JOB } }),
    ]);
  });

  it('a garbled continuation token is recorded with the job id', async () => {
    const event = withParameters(continuedFixture, paramsOf(continuedFixture), 'ferry1.eyJiIjoiMSJ9.AAAAAAAAAAAAAAAA');
    await handlerUnderTest()(event, plenty);
    expect(ledger('ledger/orders-api/dev/')).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        trigger: 'pipeline',
        pipeline: expect.objectContaining({ jobId: continuedFixture['CodePipeline.job'].id }),
      }),
    ]);
  });

  it('a ledger that cannot be written does not stop the failure report', async () => {
    s3.mock
      .on(PutObjectCommand, { Bucket: BUCKET })
      .rejects(
        new S3ServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'down', $metadata: {} }),
      );

    const result = await handlerUnderTest()(withParameters(singleFixture, 'not json'), plenty);
    await handlerUnderTest()(singleFixture, plenty);

    expect(result.result).toBe('failure');
    expect(reportCount()).toBe(2);
    const logged = log.lines.filter((l) => l.message === 'could not record the rejected pipeline job in the ledger');
    expect(logged).toHaveLength(2);
    expect(logged.map((l) => [l.level, l.attributes.jobId])).toEqual([
      ['error', JOB],
      ['error', JOB],
    ]);
  });

  it('a deployment refused by the engine is recorded once, not again by the action', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
    s3.put(PIPELINE_BUCKET, INPUT_KEY, zip);
    fake.failNext(
      'UpdateFunctionCode',
      new InvalidParameterValueException({ message: 'Layer conflict', $metadata: {} }),
      10,
    );
    await handlerUnderTest()(singleFixture, plenty);
    expect(allEntries().map((e) => e.outcome)).toEqual(['failed']);
  });
});

function paramsOf(fixture: JobEvent): string {
  const data = fixture['CodePipeline.job'].data as {
    actionConfiguration: { configuration: { UserParameters: string } };
  };
  return data.actionConfiguration.configuration.UserParameters;
}
