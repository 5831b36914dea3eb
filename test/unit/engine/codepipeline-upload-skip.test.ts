import { UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { deployUpload } from '../../../src/engine/deploy-upload.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { createFakeLambda, type FakeLambda } from '../../support/fake-lambda.js';
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
const silent = { info: () => {}, warn: () => {}, error: () => {} };
let s3: FakeS3;
let fake: FakeLambda;

beforeEach(() => {
  s3 = createFakeS3();
  fake = createFakeLambda();
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
  const upload = async (key: string, metadata: Record<string, string>) => {
    const versionId = s3.put(BUCKET, key, await makeZip([{ name: 'index.mjs', content: key }]), metadata);
    const runtime = createRuntime(config, { sleep: async () => {}, random: () => 0, env: {} });
    return deployUpload(runtime, silent, { bucket: BUCKET, key, versionId, region: 'eu-west-1' });
  };

  it('leaves a pipeline copy to the pipeline: nothing deployed', async () => {
    const result = await upload('artifacts/orders-api/7.zip', { 'ferry-trigger': 'pipeline' });
    expect(result).toMatchObject({ app: 'orders-api', build: '7', status: 'succeeded', stages: [] });
    expect(fake.mock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });

  it('still deploys an ordinary upload', async () => {
    const result = await upload('artifacts/orders-api/8.zip', { commit: 'abc123' });
    expect(result.status).toBe('succeeded');
    expect(fake.mock).toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });
});
