/**
 * Releases through the real SDK clients against the sandbox: promotion across accounts, a schedule
 * with nothing to promote, rollback, drift, pruning, and twenty uploads of one app at once.
 */
import { createHash } from 'node:crypto';
import { LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { readCurrent, readHistory } from '../../../src/engine/ledger.js';
import { runScheduledPromotions } from '../../../src/engine/promote.js';
import { rollback } from '../../../src/engine/rollback.js';
import { readStatus } from '../../../src/engine/status.js';
import { createScheduledPromotionHandler } from '../../../src/handlers/scheduled-promotion.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { type FerryWorld, makeFunctionZip, recordLog, startFerryWorld } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const DEV = '222222222222';
const STAGING = ['333333333333', '444444444444'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

const RELEASES = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: REGION,
  externalId: 'ferry-sandbox-external-id',
  keepVersions: 2,
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: DEV, function: 'orders-api' }],
        staging: STAGING.map((account) => ({ account, function: 'orders-api' })),
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

async function start(): Promise<{ world: FerryWorld; runtime: Runtime; log: ReturnType<typeof recordLog> }> {
  world = await startFerryWorld({ config: RELEASES, lambda: { updateDelayMs: 20 } });
  const runtime = world.createRuntime();
  const log = recordLog();
  world.connectUploadHandler(runtime, log);
  return { world, runtime, log };
}

async function uploadAll(w: FerryWorld, builds: readonly string[]): Promise<Map<string, Buffer>> {
  const zips = new Map<string, Buffer>();
  for (const b of builds) zips.set(b, await makeFunctionZip(`build-${b}`));
  await Promise.all(builds.map((b) => w.upload('orders-api', b, zips.get(b) as Buffer)));
  await w.sandbox.drainEvents();
  return zips;
}

function live(w: FerryWorld, account: string) {
  const snapshot = w.sandbox.lambda.describeFunction(account, REGION, 'orders-api');
  const alias = snapshot?.aliases.find((a) => a.name === 'live');
  return { snapshot, alias, version: snapshot?.versions.find((v) => v.version === alias?.functionVersion) };
}

describe('releases against the sandbox', () => {
  it('promotes the build proven in dev into both staging accounts, once', async () => {
    const { world, runtime, log } = await start();
    const zips = await uploadAll(world, ['1']);
    const [result] = await runScheduledPromotions(runtime, log, { app: 'orders-api' });
    expect(result).toMatchObject({ status: 'promoted', build: '1' });
    for (const account of STAGING) {
      const { version } = live(world, account);
      expect(version?.codeSha256).toBe(sha(zips.get('1') as Buffer));
      expect(version?.description).toMatch(/^ferry: orders-api 1 sha256:/);
    }
    const devSource = (await readCurrent(runtime, 'orders-api', 'dev'))?.source;
    expect(devSource?.versionId).toBeDefined();
    expect((await readCurrent(runtime, 'orders-api', 'staging'))?.source).toEqual(devSource);

    const [again] = await runScheduledPromotions(runtime, log, { app: 'orders-api' });
    expect(again).toMatchObject({ status: 'nothing-to-promote', reason: 'nothing to promote: staging already runs 1' });
    expect(await readHistory(runtime, { app: 'orders-api', stage: 'staging' })).toHaveLength(1);
  });

  it('a schedule with nothing to promote is a clear no-op line', async () => {
    const { runtime, log } = await start();
    const handler = createScheduledPromotionHandler(() => runtime, log);
    const summary = await handler({ app: 'orders-api', from: 'dev', to: 'staging' });
    expect(summary.results).toEqual([
      expect.objectContaining({ status: 'nothing-to-promote', reason: 'nothing to promote: dev has no live build' }),
    ]);
    expect(log.lines.find((l) => l.message === 'promotion nothing-to-promote')?.attributes).toMatchObject({
      app: 'orders-api',
      from: 'dev',
      to: 'staging',
    });
  });

  it('rolls dev back to the previous build without re-uploading, and records it', async () => {
    const { world, runtime, log } = await start();
    const zips = new Map<string, Buffer>();
    for (const b of ['1', '2']) for (const [k, v] of await uploadAll(world, [b])) zips.set(k, v);
    const before = world.sandbox.countRequests({ operation: 'UpdateFunctionCode' });

    const result = await rollback(runtime, log, { app: 'orders-api', stage: 'dev', trigger: 'cli' });
    expect(result).toMatchObject({ status: 'rolled-back', fromBuild: '2', toBuild: '1' });
    expect(live(world, DEV).version?.codeSha256).toBe(sha(zips.get('1') as Buffer));
    expect(world.sandbox.countRequests({ operation: 'UpdateFunctionCode' })).toBe(before);
    const [entry] = await readHistory(runtime, { app: 'orders-api', stage: 'dev' });
    expect(entry).toMatchObject({ outcome: 'rolled-back', build: '1', trigger: 'cli' });
    expect(entry?.caller).toMatch(/^arn:aws:sts::111111111111:assumed-role\/ferry-execution\//);
  });

  it('status reads every account live and flags an alias moved outside ferry', async () => {
    const { world, runtime } = await start();
    await uploadAll(world, ['1']);
    await uploadAll(world, ['2']);
    const clean = await readStatus(runtime, { app: 'orders-api' });
    expect(clean.rows.find((r) => r.stage === 'dev')).toMatchObject({ build: '2', checksumMatches: true, drift: [] });

    const previous = live(world, DEV).snapshot?.versions.at(-2)?.version as string;
    const other = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials(DEV)));
    await other.send(new UpdateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: previous }));
    const drifted = (await readStatus(runtime, {})).rows.find((r) => r.stage === 'dev');
    expect(drifted?.checksumMatches).toBe(false);
    expect(drifted?.drift.join('\n')).toMatch(new RegExp(`points at version ${previous}, the ledger says`));
  });

  it('prunes old versions through the qualified name and keeps aliased ones', async () => {
    const { world } = await start();
    for (const b of ['1', '2', '3', '4']) await uploadAll(world, [b]);
    const { snapshot, alias } = live(world, DEV);
    const versions = snapshot?.versions.map((v) => v.version).filter((v) => v !== '$LATEST');
    expect(versions).toEqual(['4', '5']);
    expect(alias?.functionVersion).toBe('5');
    expect(world.sandbox.countRequests({ operation: 'DeleteFunction' })).toBeGreaterThan(0);
  });

  it('twenty uploads of one app at once: the newest ends live and every attempt is in the ledger', async () => {
    const { world, runtime } = await start();
    const builds = Array.from({ length: 20 }, (_, i) => String(i + 1));
    const zips = await uploadAll(world, builds);
    expect(world.sandbox.events.deadLetters()).toEqual([]);

    expect((await readCurrent(runtime, 'orders-api', 'dev'))?.build).toBe('20');
    expect(live(world, DEV).version?.codeSha256).toBe(sha(zips.get('20') as Buffer));
    const history = await readHistory(runtime, { app: 'orders-api', stage: 'dev', limit: 100 });
    expect(new Set(history.map((e) => e.build))).toEqual(new Set(builds));
    expect(history.every((e) => e.outcome === 'succeeded' || e.outcome === 'skipped')).toBe(true);
  });
});
