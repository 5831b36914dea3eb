/**
 * ferry's EventBridge notifications for deployments that do not shift (all at once) and for
 * rollbacks, and what happens when EventBridge will not take them: retried while it throttles,
 * then logged with the deployment id, and the deployment stands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../src/core/ledger-model.js';
import { BuildStatus, deployBuild } from '../../../src/engine/deploy-build.js';
import { rollback } from '../../../src/engine/rollback.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const CONFIG = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'prod', acceptsUploads: true }],
  apps: {
    orders: { targets: { prod: ['444444444444', '555555555555'].map((account) => ({ account, function: 'orders' })) } },
  },
};

let world: UnitWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function setup() {
  const w = await startUnitWorld(CONFIG);
  world = w;
  const log = recordLog();
  const deploy = async (build: string) => {
    const app = w.runtime.config.apps.orders;
    if (!app) throw new Error('config');
    const zip = await makeZip([{ name: 'index.mjs', content: `export const handler = async () => '${build}';` }]);
    const { key, versionId } = await w.putArtifact('orders', build, zip);
    return deployBuild(w.runtime, log, {
      app,
      build,
      location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
      stages: ['prod'],
      trigger: 'upload',
    });
  };
  const events = () =>
    w.world.sandbox.eventbridge
      .captured({ source: 'ferry' })
      .map((e): Record<string, unknown> => ({ detailType: e.detailType, ...e.detail }));
  const entries = () => w.docs<LedgerEntry>('ledger/orders/prod/entries/');
  return { w, log, deploy, events, entries };
}

describe('notifications of all-at-once deployments and rollbacks', () => {
  it('an all-at-once deployment publishes started then succeeded, with the deployment id of its ledger entry', async () => {
    const { deploy, events, entries } = await setup();
    expect((await deploy('1')).status).toBe(BuildStatus.Succeeded);
    const [entry] = entries();
    expect(events()).toEqual([
      expect.objectContaining({
        detailType: 'ferry deployment state change',
        app: 'orders',
        stage: 'prod',
        build: '1',
        deploymentId: entry?.id,
        policy: 'allAtOnce',
        state: 'started',
        targets: 2,
        trigger: 'upload',
      }),
      expect.objectContaining({ build: '1', deploymentId: entry?.id, state: 'succeeded', percent: 100 }),
    ]);
  });

  it('a slow started notification does not hold up the deployment, and is sent before succeeded', async () => {
    const { w, deploy, events } = await setup();
    let codeUpdated: () => void = () => {};
    const updateSeen = new Promise<void>((resolve) => {
      codeUpdated = resolve;
    });
    let putEvents = 0;
    let updatedWhileStartedHeld = false;
    w.world.sandbox.intercept(async (request) => {
      if (request.operation === 'UpdateFunctionCode') codeUpdated();
      if (request.operation !== 'PutEvents' || ++putEvents !== 1) return;
      // Hold `started` until a target's code is updated (or give up after 5 s: the deployment waited for it).
      updatedWhileStartedHeld = await Promise.race([
        updateSeen.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
    });
    expect((await deploy('1')).status).toBe(BuildStatus.Succeeded);
    expect(updatedWhileStartedHeld).toBe(true);
    expect(events().map((e) => e.state)).toEqual(['started', 'succeeded']);
  });

  it('a failed deployment publishes failed with the reason; ferry rollback publishes rolled-back', async () => {
    const { w, log, deploy, events } = await setup();
    await deploy('1');
    await deploy('2');
    w.world.sandbox.lambdaSettings.failNextUpdates = 10;
    expect((await deploy('3')).status).toBe(BuildStatus.Failed);
    w.world.sandbox.lambdaSettings.failNextUpdates = 0;
    const failed = events().find((e) => e.build === '3' && e.state === 'failed');
    expect(failed?.detail).toMatch(/target\(s\) failed/);
    const result = await rollback(w.runtime, log, {
      app: 'orders',
      stage: 'prod',
      trigger: 'cli',
      caller: 'arn:carol',
    });
    expect(result.status).toBe('rolled-back');
    expect(events().at(-1)).toMatchObject({
      state: 'rolled-back',
      build: '1',
      fromBuild: '2',
      caller: 'arn:carol',
      deploymentId: result.entryId,
    });
  });
});

describe('notifications EventBridge will not take', () => {
  it('PutEvents throttled twice: retried on ferry’s clock, and the notifications arrive', async () => {
    const { w, log, deploy, events } = await setup();
    w.world.sandbox.faults.add({
      service: 'events',
      operation: 'PutEvents',
      error: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
      times: 2,
    });
    expect((await deploy('1')).status).toBe(BuildStatus.Succeeded);
    expect(events().map((e) => e.state)).toEqual(['started', 'succeeded']);
    expect(w.world.sandbox.requests({ service: 'events', operation: 'PutEvents' }).map((r) => r.status)).toEqual([
      400, 400, 200, 200,
    ]);
    expect(log.lines.filter((l) => l.message === 'notification not sent')).toEqual([]);
  });

  it('a notification that still cannot be sent is logged with the deployment id, and the deployment succeeds', async () => {
    const { w, log, deploy, events, entries } = await setup();
    w.world.sandbox.faults.add({
      service: 'events',
      operation: 'PutEvents',
      error: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
    });
    expect((await deploy('1')).status).toBe(BuildStatus.Succeeded);
    expect(
      w.aliasVersion({ accountId: '444444444444', region: 'eu-west-1', functionName: 'orders', alias: 'live' }),
    ).toBe('1');
    expect(events()).toEqual([]);
    const lost = log.lines.filter((l) => l.message === 'notification not sent');
    expect(lost.map((l) => l.attributes)).toEqual([
      expect.objectContaining({ deploymentId: entries()[0]?.id, build: '1', states: ['started'] }),
      expect.objectContaining({ deploymentId: entries()[0]?.id, build: '1', states: ['succeeded'] }),
    ]);
    expect(lost[0]?.attributes.reason).toMatch(/EVENTS_THROTTLED.*after 4 attempts/);
    expect(entries()[0]?.outcome).toBe('succeeded');
  });

  it('an entry EventBridge refuses for good is not retried, and is logged', async () => {
    const { w, log, deploy } = await setup();
    // ferry's role may PutEvents on the default bus only: a denial is permanent, never retried.
    w.world.sandbox.faults.add({
      service: 'events',
      operation: 'PutEvents',
      error: { code: 'AccessDeniedException', status: 400, message: 'not authorized' },
      times: 1,
    });
    expect((await deploy('1')).status).toBe(BuildStatus.Succeeded);
    expect(w.world.sandbox.requests({ service: 'events', operation: 'PutEvents' })).toHaveLength(2);
    expect(log.lines.find((l) => l.message === 'notification not sent')?.attributes).toMatchObject({
      states: ['started'],
      reason: expect.stringMatching(/EVENTS_ACCESS_DENIED/),
    });
  });
});
