/**
 * The ledger is a record, not an authority: a principal who can write the artifact bucket rewrites
 * the source stage's current.json to name a build it uploaded (marked as a pipeline copy so the
 * upload trigger leaves it alone); ferry checks what the source aliases really serve before moving
 * code, so nothing reaches the next stage.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CurrentState } from '../../../src/core/ledger-model.js';
import { readCurrent, readHistory } from '../../../src/engine/ledger.js';
import { runScheduledPromotions } from '../../../src/engine/promote.js';
import { type FerryWorld, makeFunctionZip, recordLog, startFerryWorld } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const DEV = '222222222222';
const STAGING = '333333333333';
const BUCKET = 'ferry-artifacts-111111111111';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

const CONFIG = {
  artifactBucket: BUCKET,
  region: REGION,
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev' }, { name: 'staging' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: DEV, function: 'orders-api' }],
        staging: [{ account: STAGING, function: 'orders-api' }],
      },
      promotions: [{ from: 'dev', to: 'staging', minSoakMinutes: 0 }],
    },
  },
};

let world: FerryWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

function liveSha(w: FerryWorld, account: string): string | undefined {
  const snapshot = w.sandbox.lambda.describeFunction(account, REGION, 'orders-api');
  const alias = snapshot?.aliases.find((a) => a.name === 'live');
  return snapshot?.versions.find((v) => v.version === alias?.functionVersion)?.codeSha256;
}

describe('promotion checks the ledger against what the source stage serves', () => {
  it('refuses a build that a rewritten current.json names, and says which target serves what', async () => {
    world = await startFerryWorld({ config: CONFIG, lambda: { updateDelayMs: 20 } });
    const runtime = world.createRuntime();
    const log = recordLog();
    const disconnect = world.connectUploadHandler(runtime, log);
    const good = await makeFunctionZip('build-1');
    await world.upload('orders-api', '1', good);
    await world.sandbox.drainEvents();
    expect(liveSha(world, DEV)).toBe(sha(good));
    const stagingBefore = liveSha(world, STAGING);

    // The attacker's build never reaches dev (its upload event does not deploy it), but the ledger says it runs there.
    disconnect();
    const evil = await makeFunctionZip('evil');
    const { versionId } = await world.upload('orders-api', '2', evil, { 'ferry-trigger': 'pipeline' });
    const current = (await readCurrent(runtime, 'orders-api', 'dev')) as CurrentState;
    const forged: CurrentState = {
      ...current,
      build: '2',
      codeSha256: sha(evil),
      source: {
        bucket: BUCKET,
        key: 'artifacts/orders-api/2.zip',
        ...(versionId ? { versionId } : {}),
        region: REGION,
      },
      liveSince: '2020-01-01T00:00:00.000Z',
    };
    // Written as a ledger writer (an operator or break-glass role): the bucket policy keeps everyone
    // else out of ledger/, and ferry's checks do not take even a ledger writer's word for it.
    await world.s3Client(world.operator).send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'ledger/orders-api/dev/current.json',
        Body: JSON.stringify(forged),
      }),
    );

    const [result] = await runScheduledPromotions(runtime, log, { app: 'orders-api' });
    expect(result?.status).toBe('refused');
    const devTarget = `${DEV}/${REGION}/orders-api:live`;
    expect(result?.reason).toContain(
      `${devTarget} serves sha256 ${sha(good)} (version 2), the ledger says sha256 ${sha(evil)}`,
    );
    expect(liveSha(world, STAGING)).toBe(stagingBefore);
    expect(world.sandbox.countRequests({ operation: 'UpdateFunctionCode', accountId: STAGING })).toBe(0);
    const [entry] = await readHistory(runtime, { app: 'orders-api', stage: 'staging' });
    expect(entry).toMatchObject({ outcome: 'rejected', build: '2', code: 'PROMOTION_LEDGER_DRIFT' });
  });
});
