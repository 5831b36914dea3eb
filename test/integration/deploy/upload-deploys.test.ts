import { createHash } from 'node:crypto';
import { LambdaClient, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../../src/core/config.js';
import {
  type FerryWorld,
  makeFunctionZip,
  recordLog,
  startFerryWorld,
  TWO_ACCOUNTS,
} from '../../support/sandbox-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const REGION = 'eu-west-1';
let world: FerryWorld | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function start(options: Partial<Parameters<typeof startFerryWorld>[0]> = {}) {
  world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 }, ...options });
  const log = recordLog();
  world.connectUploadHandler(world.createRuntime(), log);
  return { world, log };
}

/** Polls a condition (bounded), for state another task reaches: no fixed sleeps. */
async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function liveVersion(w: FerryWorld, account: string, fn = 'orders-api') {
  const snapshot = w.sandbox.lambda.describeFunction(account, REGION, fn);
  const alias = snapshot?.aliases.find((a) => a.name === 'live');
  const version = snapshot?.versions.find((v) => v.version === alias?.functionVersion);
  return { snapshot, alias, version };
}

describe('upload → deploy through the real SDK clients against the sandbox', () => {
  it('deploys an uploaded build into both target accounts and moves the aliases', async () => {
    const { world, log } = await start();
    const zip = await makeFunctionZip('build-1');
    await world.upload('orders-api', '1', zip, { commit: 'abc123' });
    await world.sandbox.drainEvents();

    for (const account of ['222222222222', '333333333333']) {
      const { snapshot, alias, version } = liveVersion(world, account);
      expect(snapshot?.latest.codeSha256).toBe(sha(zip));
      expect(alias?.functionVersion).toBe('2');
      expect(version?.description).toBe(`ferry: orders-api 1 sha256:${sha(zip)}`);
    }
    const lines = log.lines.filter((l) => l.message === 'target deployed');
    expect(lines.map((l) => l.attributes.account).sort()).toEqual(['222222222222', '333333333333']);
    expect(lines[0]?.attributes).toMatchObject({ commit: 'abc123', previousVersion: '1', version: '2' });
    expect(world.sandbox.events.deadLetters()).toEqual([]);
  });

  it('a duplicated event publishes one version only', async () => {
    const { world } = await start();
    world.sandbox.events.setFaults({ duplicate: 3 });
    await world.upload('orders-api', '2', await makeFunctionZip('build-2'));
    await world.sandbox.drainEvents();

    const { snapshot, alias } = liveVersion(world, '222222222222');
    expect(snapshot?.versions.map((v) => v.version)).toEqual(['1', '2']);
    expect(alias?.functionVersion).toBe('2');
    expect(world.sandbox.events.deliveries().length).toBeGreaterThanOrEqual(3);
  });

  it('waits for an update that someone else has in progress, then deploys', async () => {
    // The other tool's update stays InProgress until the test moves the sandbox clock (by less than
    // the credentials' lifetime, which the sandbox clock governs too).
    const { world, log } = await start({ lambda: { updateDelayMs: 300_000 } });
    const target = world.targets[0] as Target;
    const other = await makeFunctionZip('someone-else');
    const lambda = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials(target.accountId), REGION));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: target.functionName, ZipFile: other }));

    const zip = await makeFunctionZip('build-3');
    await world.upload('orders-api', '3', zip);
    // ferry has read the function (InProgress) and polled it at least once, and changed nothing.
    const reads = () =>
      world.sandbox.countRequests({
        service: 'lambda',
        operation: 'GetFunctionConfiguration',
        accountId: target.accountId,
      });
    await waitUntil(() => reads() >= 2);
    expect(liveVersion(world, target.accountId).snapshot?.latest).toMatchObject({
      codeSha256: sha(other),
      lastUpdateStatus: 'InProgress',
    });
    expect(
      world.sandbox.countRequests({ service: 'lambda', operation: 'UpdateFunctionCode', accountId: target.accountId }),
    ).toBe(1);

    // The other update settles; ferry's own updates settle quickly from here on.
    world.sandbox.lambdaSettings.updateDelayMs = 20;
    world.sandbox.clock.advance(300_000);
    await world.sandbox.drainEvents();

    expect(liveVersion(world, target.accountId).snapshot?.latest.codeSha256).toBe(sha(zip));
    expect(liveVersion(world, target.accountId).version?.codeSha256).toBe(sha(zip));
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('absorbs Lambda throttling and still deploys everything', async () => {
    const { world } = await start();
    world.sandbox.faults.add({
      service: 'lambda',
      operation: 'PublishVersion',
      error: { code: 'TooManyRequestsException', status: 429, message: 'Rate exceeded' },
      times: 4,
    });
    const zip = await makeFunctionZip('build-4');
    await world.upload('orders-api', '4', zip);
    await world.sandbox.drainEvents();

    expect(world.sandbox.countRequests({ service: 'lambda', errorCode: 'TooManyRequestsException' })).toBe(4);
    for (const account of ['222222222222', '333333333333']) {
      expect(liveVersion(world, account).version?.codeSha256).toBe(sha(zip));
    }
    expect(world.sandbox.events.deadLetters()).toEqual([]);
  });

  it('a wrong ExternalId fails with an error naming the role and account, and changes nothing', async () => {
    const config = { ...TWO_ACCOUNTS, externalId: 'not-the-one-the-role-requires' };
    const { world, log } = await start({
      config,
      deployRoleTrust: (t) => ({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:role/ferry-execution' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': `expected-${t.accountId}` } },
          },
        ],
      }),
    });
    await world.upload('orders-api', '5', await makeFunctionZip('build-5'));
    await world.sandbox.drainEvents();

    const failure = log.lines.find((l) => l.message === 'target deployment failed');
    expect(failure?.attributes.errorCode).toBe('ASSUME_ROLE_FAILED');
    expect(String(failure?.attributes.reason)).toMatch(/arn:aws:iam::(\d{12}):role\/ferry-deploy in account \1/);
    expect(String(failure?.attributes.reason)).toMatch(/ExternalId/);
    expect(liveVersion(world, '222222222222').alias?.functionVersion).toBe('1');
    // The invocation failed, so Lambda's retries ran and the event reached the failure destination.
    expect(world.sandbox.events.deadLetters()).toHaveLength(1);
  });

  it('a trust policy that does not name ferry fails clearly', async () => {
    const { world, log } = await start({
      deployRoleTrust: () => ({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    await world.upload('orders-api', '6', await makeFunctionZip('build-6'));
    await world.sandbox.drainEvents();
    const reasons = log.lines
      .filter((l) => l.message === 'target deployment failed')
      .map((l) => String(l.attributes.reason));
    // Each of Lambda's three attempts fails the same way for both targets.
    expect(reasons).toHaveLength(6);
    expect(reasons.join('\n')).toMatch(/could not assume arn:aws:iam::333333333333:role\/ferry-deploy/);
    expect(reasons.join('\n')).toMatch(/trust policy/);
  });
});

describe('artifacts above 50 MB take the S3-reference path', () => {
  const BIG = 51 * 1024 * 1024;

  it('deploys through S3Bucket/S3Key/S3ObjectVersion, read by the deploy role', async () => {
    const { world } = await start();
    const zip = await makeFunctionZip('big', BIG);
    await world.upload('orders-api', '7', zip);
    await world.sandbox.drainEvents();

    expect(world.sandbox.events.deadLetters()).toEqual([]);
    for (const account of ['222222222222', '333333333333']) {
      expect(liveVersion(world, account).version?.codeSha256).toBe(sha(zip));
    }
  }, 60_000);

  it('a bucket policy that does not let the deploy role read fails with a clear error', async () => {
    const { world, log } = await start({
      bucketPolicy: { Version: '2012-10-17', Statement: [] } as never,
    });
    await world.upload('orders-api', '8', await makeFunctionZip('big', BIG));
    await world.sandbox.drainEvents();

    const failure = log.lines.find((l) => l.message === 'target deployment failed');
    expect(failure?.attributes.errorCode).toBe('ARTIFACT_S3_ACCESS_DENIED');
    expect(String(failure?.attributes.reason)).toMatch(
      /bucket's policy must allow s3:GetObject and s3:GetObjectVersion/,
    );
    expect(liveVersion(world, '222222222222').alias?.functionVersion).toBe('1');
  }, 60_000);
});

describe('order', () => {
  it('two builds arriving out of order: the newer one stays live, the older is recorded as skipped', async () => {
    world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
    const log = recordLog();
    // One invocation at a time (reserved concurrency 1), so the reordered events are handled in
    // the order S3 delivers them: 42 first, then 41 late.
    world.connectUploadHandler(world.createRuntime(), log, { reservedConcurrency: 1 });
    world.sandbox.events.setFaults({ reorderBatch: 2 });
    const older = await makeFunctionZip('build-41');
    const newer = await makeFunctionZip('build-42');
    await world.upload('orders-api', '41', older);
    await world.upload('orders-api', '42', newer);
    await world.sandbox.drainEvents();

    const deployed = log.lines.filter((l) => l.message === 'target deployed').map((l) => l.attributes.build);
    expect(deployed).toEqual(['42', '42']);
    for (const account of ['222222222222', '333333333333']) {
      expect(liveVersion(world, account).version?.codeSha256).toBe(sha(newer));
      expect(liveVersion(world, account).snapshot?.versions.map((v) => v.version)).toEqual(['1', '2']);
    }
    const skipped = log.lines.find((l) => l.message === 'build skipped');
    expect(skipped?.attributes).toMatchObject({ build: '41', stage: 'dev' });
    expect(String(skipped?.attributes.reason)).toMatch(/42/);
    expect(world.sandbox.events.deadLetters()).toEqual([]);
  });

  it('two builds racing at once: whichever order they run in, the newer one ends live', async () => {
    const { world } = await start();
    const older = await makeFunctionZip('build-51');
    const newer = await makeFunctionZip('build-52');
    await Promise.all([world.upload('orders-api', '51', older), world.upload('orders-api', '52', newer)]);
    await world.sandbox.drainEvents();
    for (const account of ['222222222222', '333333333333']) {
      expect(liveVersion(world, account).version?.codeSha256).toBe(sha(newer));
    }
    expect(world.sandbox.events.deadLetters()).toEqual([]);
  });
});
