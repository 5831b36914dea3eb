/**
 * Least privilege, measured in the sandbox: the deploy roles are built from
 * templates/target-account-role.yml exactly as an operator would fill it in, and each test acts as
 * one of them to show what it may not do.
 */
import { GetFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FerryWorld, makeFunctionZip, startFerryWorld } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const DEV = '222222222222';
const OTHER = '333333333333';
const BUCKET = 'ferry-artifacts-111111111111';
const CONFIG = {
  artifactBucket: BUCKET,
  region: REGION,
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev', acceptsUploads: true }],
  apps: {
    'orders-api': { targets: { dev: [{ account: DEV, function: 'orders-api' }] } },
    'billing-worker': { targets: { dev: [{ account: OTHER, function: 'billing-worker' }] } },
  },
};

let world: FerryWorld;
beforeEach(async () => {
  world = await startFerryWorld({ config: CONFIG, transport: 'in-process' });
});
afterEach(() => world.stop());

function deployRoleCredentials(accountId: string) {
  return world.sandbox.issueRoleCredentials({
    roleArn: `arn:aws:iam::${accountId}:role/ferry-deploy`,
    sessionName: 'least-privilege',
  });
}

function actAsDeployRole(accountId: string) {
  return new LambdaClient({ ...world.sandbox.clientConfig(deployRoleCredentials(accountId), REGION), ...world.sdk });
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string };
  }
  throw new Error('expected the call to be refused');
}

describe('the deploy role', () => {
  it('reads function configuration, but not GetFunction and its code download URL', async () => {
    const lambda = actAsDeployRole(DEV);
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));
    expect(config.FunctionName).toBe('orders-api');
    const denied = await errorOf(lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' })));
    expect(denied.name).toBe('AccessDeniedException');
  });

  it('reads the artifacts of the apps deployed into its account, and no other app’s', async () => {
    const zip = await makeFunctionZip('1');
    await world.upload('orders-api', '1', zip);
    await world.upload('billing-worker', '1', zip);
    const s3 = world.s3Client(deployRoleCredentials(DEV));
    const own = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'artifacts/orders-api/1.zip' }));
    expect(Buffer.from(await (own.Body?.transformToByteArray() ?? new Uint8Array()))).toEqual(zip);
    const other = await errorOf(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'artifacts/billing-worker/1.zip' })),
    );
    expect(other.name).toBe('AccessDenied');
  });
});

describe('the ledger and the leases', () => {
  it('cannot be written or deleted by CI, whatever its IAM allows; ferry and the ledger writers can', async () => {
    // The tooling account's root: its identity allows everything, so only the bucket policy stops it.
    const ci = world.s3Client(world.ci);
    const put = (client: typeof ci, key: string) =>
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{}' }));
    for (const key of ['ledger/orders-api/dev/current.json', 'leases/orders-api/dev.json']) {
      expect((await errorOf(put(ci, key))).name, key).toBe('AccessDenied');
    }
    const ferry = world.s3Client({
      accessKeyId: world.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: world.env.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: world.env.AWS_SESSION_TOKEN ?? '',
    });
    await put(ferry, 'leases/orders-api/dev.json');
    await put(world.s3Client(world.operator), 'ledger/orders-api/_note.json');
    const deleted = await errorOf(
      ci.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'ledger/orders-api/_note.json' })),
    );
    expect(deleted.name).toBe('AccessDenied');
    // CI still uploads artifacts: the Deny covers ledger/ and leases/ only.
    await put(ci, 'artifacts/orders-api/7.zip');
  });
});
