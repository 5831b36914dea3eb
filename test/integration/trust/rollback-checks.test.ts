/**
 * Rollback to a build moves an alias only to a version whose code is the build's recorded
 * checksum: a version whose description claims the build but holds other code is refused.
 */
import { createHash } from 'node:crypto';
import {
  GetFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { rollback } from '../../../src/engine/rollback.js';
import { type FerryWorld, makeFunctionZip, recordLog, startFerryWorld } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const DEV = '222222222222';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const CONFIG = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: REGION,
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: { 'orders-api': { targets: { dev: [{ account: DEV, function: 'orders-api' }] } } },
};

let world: FerryWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('rollback checks versions against the build recorded checksum', () => {
  it('refuses a version whose description claims build 1 but whose code is not build 1', async () => {
    world = await startFerryWorld({ config: CONFIG, lambda: { updateDelayMs: 20 } });
    const runtime = world.createRuntime();
    const log = recordLog();
    world.connectUploadHandler(runtime, log);
    const one = await makeFunctionZip('build-1');
    await world.upload('orders-api', '1', one);
    await world.sandbox.drainEvents();
    await world.upload('orders-api', '2', await makeFunctionZip('build-2'));
    await world.sandbox.drainEvents();

    // Someone with Lambda access in the account publishes other code under a description that names build 1.
    const lambda = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials(DEV), REGION));
    const evil = await makeFunctionZip('evil');
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders-api', ZipFile: evil }));
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'orders-api' });
    const published = await lambda.send(
      new PublishVersionCommand({ FunctionName: 'orders-api', Description: `ferry: orders-api 1 sha256:${sha(one)}` }),
    );
    const version = published.Version as string;

    await expect(
      rollback(runtime, log, { app: 'orders-api', stage: 'dev', toVersion: version, trigger: 'cli' }),
    ).rejects.toThrow(
      new RegExp(
        `version ${version} holds sha256 ${escapeRegExp(sha(evil))} \\(build 1, its description says sha256 ${escapeRegExp(sha(one))}\\), but build 1 is recorded as sha256 ${escapeRegExp(sha(one))}`,
      ),
    );
    const alias = await lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api', Qualifier: 'live' }));
    expect(alias.Configuration?.Version).toBe('3');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
