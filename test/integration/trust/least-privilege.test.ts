/**
 * Least privilege, measured in the sandbox: the deploy roles are built from
 * templates/target-account-role.yml exactly as an operator would fill it in, and each test acts as
 * one of them to show what it may not do.
 */
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  type LambdaServiceException,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FerryWorld, startFerryWorld } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const DEV = '222222222222';
const CONFIG = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: REGION,
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev', acceptsUploads: true }],
  apps: {
    'orders-api': { targets: { dev: [{ account: DEV, function: 'orders-api' }] } },
  },
};

let world: FerryWorld;
beforeEach(async () => {
  world = await startFerryWorld({ config: CONFIG, transport: 'in-process' });
});
afterEach(() => world.stop());

function actAsDeployRole(accountId: string) {
  const credentials = world.sandbox.issueRoleCredentials({
    roleArn: `arn:aws:iam::${accountId}:role/ferry-deploy`,
    sessionName: 'least-privilege',
  });
  return new LambdaClient({ ...world.sandbox.clientConfig(credentials, REGION), ...world.sdk });
}

async function errorOf(promise: Promise<unknown>): Promise<LambdaServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as LambdaServiceException;
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
});
