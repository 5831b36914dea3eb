import { UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { deployUpload } from '../../../src/engine/deploy-upload.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { createFakeLambda, type FakeLambda, sha256 } from '../../support/fake-lambda.js';
import { recordLog } from '../../support/record-log.js';
import { makeZip } from '../../support/zips.js';
import { createFakeS3, type FakeS3 } from '../handlers/codepipeline-fake-s3.js';

const BUCKET = 'ferry-artifacts-111111111111';
const config = parseConfig({
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
});
const sts = mockClient(STSClient);
let s3: FakeS3;
let log: ReturnType<typeof recordLog>;
let fake: FakeLambda;

beforeEach(() => {
  s3 = createFakeS3();
  log = recordLog();
  fake = createFakeLambda();
  fake.readS3Code = (bucket, key, versionId) => s3.version(bucket, key, versionId)?.body;
  sts.reset();
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIA',
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date(Date.now() + 3600_000),
    },
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111111111111:assumed-role/ferry/x' });
});
afterEach(() => {
  s3.mock.restore();
  fake.mock.restore();
});

describe('the upload trigger and copies made by the CodePipeline action', () => {
  const upload = async (key: string, metadata: Record<string, string>, zip?: Buffer) => {
    const body = zip ?? (await makeZip([{ name: 'index.mjs', content: key }]));
    const versionId = s3.put(BUCKET, key, body, metadata);
    const runtime = createRuntime(config, { sleep: async () => {}, random: () => 0, env: {} });
    return deployUpload(runtime, log, { bucket: BUCKET, key, versionId, region: 'eu-west-1' });
  };
  const record = (build: string, codeSha256: string) =>
    s3.put(
      BUCKET,
      `ledger/orders-api/_staged/${build}.json`,
      Buffer.from(
        JSON.stringify({
          schema: 1,
          kind: 'pipeline',
          app: 'orders-api',
          build,
          key: `artifacts/orders-api/${build}.zip`,
          codeSha256,
          caller: 'arn:aws:sts::111111111111:assumed-role/ferry/x',
          jobId: 'job-1',
          recordedAt: '2026-11-23T08:00:00.000Z',
        }),
      ),
    );
  const ledger = () =>
    s3
      .keys(BUCKET)
      .filter((k) => k.includes('/entries/'))
      .map((k) => JSON.parse(s3.latest(BUCKET, k)?.body.toString() ?? '{}'));

  it('leaves a copy ferry recorded to the pipeline: nothing deployed, the skip in the ledger', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'pipeline build 7' }]);
    record('7', sha256(zip));
    const result = await upload('artifacts/orders-api/7.zip', { 'ferry-trigger': 'pipeline' }, zip);
    expect(result).toMatchObject({ app: 'orders-api', build: '7', status: 'succeeded', stages: [] });
    expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    expect(ledger()).toEqual([
      expect.objectContaining({ stage: '_upload', build: '7', outcome: 'skipped', code: 'FERRY_COPY' }),
    ]);
  });

  it('deploys an upload that only sets the metadata key: the marker alone proves nothing', async () => {
    const result = await upload('artifacts/orders-api/9.zip', { 'ferry-trigger': 'pipeline' });
    expect(result.status).toBe('succeeded');
    expect(fake.mock).toHaveReceivedCommand(UpdateFunctionCodeCommand);
    expect(ledger()).toEqual([expect.objectContaining({ stage: 'dev', build: '9', outcome: 'succeeded' })]);
    expect(log.lines.find((l) => l.message === 'upload claims to be a ferry copy')?.attributes.reason).toMatch(
      /ferry recorded no such copy/,
    );
  });

  it('deploys other bytes uploaded over a recorded copy (the checksum does not match the record)', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'pipeline build 10' }]);
    record('10', sha256(zip));
    const result = await upload('artifacts/orders-api/10.zip', { 'ferry-trigger': 'pipeline' });
    expect(result.status).toBe('succeeded');
    expect(fake.mock).toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });

  it('still deploys an ordinary upload', async () => {
    const result = await upload('artifacts/orders-api/8.zip', { commit: 'abc123' });
    expect(result.status).toBe('succeeded');
    expect(fake.mock).toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });
});
