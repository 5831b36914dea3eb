import { createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { BuildStatus, deployBuild } from '../../../src/engine/deploy-build.js';
import { readHistory } from '../../../src/engine/ledger.js';
import { promote, runScheduledPromotions } from '../../../src/engine/promote.js';
import { rollback } from '../../../src/engine/rollback.js';
import { readStatus } from '../../../src/engine/status.js';
import { createScheduledPromotionHandler } from '../../../src/handlers/scheduled-promotion.js';
import { recordLog } from '../../support/record-log.js';
import { createSeededRandom, shuffle } from '../../support/seeded-random.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  // Tests move the clock past the soak time; the SDK caches a session's credentials on the wall
  // clock, so the session outlasts the moves (the sandbox expires it on the virtual clock).
  sessionDurationSeconds: 3600,
  keepVersions: 2,
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: '222222222222', function: 'orders-api' }],
        staging: [
          { account: '333333333333', function: 'orders-api' },
          { account: '333333333333', function: 'orders-worker' },
        ],
        prod: [{ account: '444444444444', function: 'orders-api' }],
      },
      promotions: [{ from: 'dev', to: 'staging', minSoakMinutes: 30, requireNoFailures: true }],
    },
  },
};
const config = parseConfig(rawConfig);
const app = config.apps['orders-api'];
if (!app) throw new Error('config');
const dev = app.targets.dev?.[0];
const stagingApi = app.targets.staging?.[0];
if (!dev || !stagingApi) throw new Error('config');

let world: UnitWorld;
let log: ReturnType<typeof recordLog>;
const zips = new Map<string, Buffer>();

async function put(build: string): Promise<{ key: string; versionId: string; zip: Buffer }> {
  const zip = await makeZip([{ name: 'index.mjs', content: `export const build = '${build}';` }]);
  zips.set(build, zip);
  return { ...(await world.putArtifact('orders-api', build, zip)), zip };
}

async function upload(build: string, extra: { dryRun?: boolean } = {}) {
  const { key, versionId } = await put(build);
  return deployBuild(world.runtime, log, {
    app: app as NonNullable<typeof app>,
    build,
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: ['dev'],
    trigger: 'upload',
    ...extra,
  });
}

const current = (stage: string) => world.readJson<CurrentState>(`ledger/orders-api/${stage}/current.json`);
const entries = (stage: string) => world.docs<LedgerEntry>(`ledger/orders-api/${stage}/entries/`);
const MINUTE = 60_000;
const versionsOf = (target: NonNullable<typeof dev>) => world.fn(target).versions.map((v) => v.version);
/** Lambda calls ferry made into an account, in order (the world seeds functions without calls). */
const lambdaCalls = (accountId: string) =>
  world.world.sandbox.requests({ service: 'lambda', accountId }).map((r) => r.operation);
const isWrite = (operation: string) => !/^(Get|List)/.test(operation);

beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
  log = recordLog();
});
afterEach(() => world.stop());

/** Keys of objects ferry read from the artifact prefix, in order. */
let reads: string[] = [];
const artifactReads = () => reads;
beforeEach(() => {
  reads = [];
  world.world.sandbox.intercept((request) => {
    if (request.operation === 'GetObject' && request.path.startsWith(`/${BUCKET}/artifacts/`)) {
      reads.push(request.path.slice(BUCKET.length + 2));
    }
  });
});

describe('ordering and the lease', () => {
  it('looks up the caller while the stale-build check reads the current state, and records the caller', async () => {
    let currentRead: () => void = () => {};
    const currentSeen = new Promise<void>((resolve) => {
      currentRead = resolve;
    });
    let readWhileCallerHeld: boolean | undefined;
    world.world.sandbox.intercept(async (request) => {
      if (request.operation === 'GetObject' && request.path === `/${BUCKET}/ledger/orders-api/dev/current.json`) {
        currentRead();
      }
      if (request.operation !== 'GetCallerIdentity' || readWhileCallerHeld !== undefined) return;
      // Hold STS until the ledger is read (or give up after 5 s: the read waited for the caller).
      readWhileCallerHeld = await Promise.race([
        currentSeen.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
    });
    expect((await upload('1')).status).toBe(BuildStatus.Succeeded);
    expect(readWhileCallerHeld).toBe(true);
    expect(entries('dev')[0]?.caller).toMatch(/^arn:aws:/);
  });

  it('records a late, older build as skipped without reading its artifact', async () => {
    await upload('5');
    const late = await upload('3');
    expect(late.status).toBe(BuildStatus.Skipped);
    expect(artifactReads()).not.toContain('artifacts/orders-api/3.zip');
    const skipped = entries('dev').find((e) => e.build === '3');
    expect(skipped).toMatchObject({ outcome: 'skipped', code: 'BUILD_OLDER_THAN_CURRENT', targets: [] });
    expect(current('dev')?.build).toBe('5');
  });

  it('twenty builds of one app at once: the newest ends live and every attempt is in the ledger', async () => {
    const builds = Array.from({ length: 20 }, (_, i) => String(i + 1));
    // Seeded: a failing order can be replayed.
    const shuffled = shuffle(builds, createSeededRandom(20));
    const results = await Promise.all(shuffled.map((b) => upload(b)));

    for (const [i, r] of results.entries()) {
      expect([BuildStatus.Succeeded, BuildStatus.Skipped], `build ${shuffled[i]}`).toContain(r.status);
    }
    expect(current('dev')?.build).toBe('20');
    const fn = world.fn(dev);
    const live = fn.versions.find((v) => v.version === world.aliasVersion(dev));
    expect(live?.codeSha256).toBe(sha256(zips.get('20') as Buffer));
    const recorded = entries('dev');
    expect(recorded.map((e) => e.build).sort()).toEqual([...builds].sort());
    for (const e of recorded.filter((x) => x.outcome === 'skipped')) expect(e.reason).toMatch(/older than/);
    expect(world.readJson<{ released: boolean }>('leases/orders-api/dev.json')?.released).toBe(true);
  });

  it('a re-delivery of the live build changes nothing and is recorded', async () => {
    await upload('7');
    const versions = versionsOf(dev);
    const again = await upload('7');
    expect(again.status).toBe(BuildStatus.Succeeded);
    expect(again.stages[0]?.outcomes[0]?.status).toBe('unchanged');
    expect(versionsOf(dev)).toEqual(versions);
    expect(entries('dev')).toHaveLength(2);
  });

  it('a dry run reads only: no lease, no ledger entry, no Lambda write', async () => {
    await upload('1');
    const calls = lambdaCalls(dev.accountId).length;
    const planned = await upload('2', { dryRun: true });
    expect(planned.status).toBe(BuildStatus.Planned);
    expect(entries('dev')).toHaveLength(1);
    expect(lambdaCalls(dev.accountId).slice(calls).filter(isWrite)).toEqual([]);
    expect(world.readJson<{ build: string }>('leases/orders-api/dev.json')?.build).toBe('1');
  });
});

/** Moves an alias by hand, as someone outside ferry would (the account's root, through Lambda's API). */
async function moveAlias(target: NonNullable<typeof dev>, version: string): Promise<void> {
  await world
    .lambdaAs(target.accountId)
    .send(new UpdateAliasCommand({ FunctionName: target.functionName, Name: target.alias, FunctionVersion: version }));
}

describe('resuming after a crash', () => {
  it('a re-run after a crash between PublishVersion and the alias move reports deployed: it moved the alias', async () => {
    await upload('9');
    const { key, versionId, zip } = await put('10');
    // The crashed run: code updated and a version published, then it died before moving the alias.
    const lambda = world.lambdaAs(dev.accountId);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: dev.functionName, ZipFile: zip }));
    world.world.sandbox.clock.advance(60_000);
    const published = await lambda.send(
      new PublishVersionCommand({ FunctionName: dev.functionName, CodeSha256: sha256(zip) }),
    );
    expect(world.aliasVersion(dev)).not.toBe(published.Version);

    const again = await deployBuild(world.runtime, log, {
      app: app as NonNullable<typeof app>,
      build: '10',
      location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
      stages: ['dev'],
      trigger: 'upload',
    });

    expect(again.stages[0]?.outcomes[0]?.plan?.outcome).toBe('point-alias');
    expect(again.stages[0]?.outcomes[0]).toMatchObject({ status: 'deployed', version: published.Version });
    expect(world.aliasVersion(dev)).toBe(published.Version);
  });
});

describe('pruning', () => {
  it('keeps the newest keepVersions plus what aliases use or just left', async () => {
    for (const b of ['1', '2', '3', '4', '5']) await upload(b);
    expect(versionsOf(dev)).toEqual(['4', '5']);
    expect(world.aliasVersion(dev)).toBe('5');
  });

  it('lists nothing while the newest version number cannot exceed keepVersions', async () => {
    await upload('1');
    const calls = lambdaCalls(dev.accountId);
    expect(calls).toContain('PublishVersion');
    expect(calls.filter((c) => c === 'ListAliases' || c === 'ListVersionsByFunction')).toEqual([]);
  });

  it('never deletes a version another alias points at', async () => {
    await upload('1');
    await world
      .lambdaAs(dev.accountId)
      .send(new CreateAliasCommand({ FunctionName: dev.functionName, Name: 'pinned', FunctionVersion: '1' }));
    for (const b of ['2', '3', '4']) await upload(b);
    expect(versionsOf(dev)).toEqual(['1', '3', '4']);
  });
});

describe('promotion', () => {
  it('waits for the soak time, then promotes the same artifact version to every staging target', async () => {
    await upload('3');
    const early = await promote(world.runtime, log, {
      app: 'orders-api',
      from: 'dev',
      to: 'staging',
      trigger: 'schedule',
    });
    expect(early.status).toBe('waiting');
    expect(early.reason).toMatch(/soaked 0 of 30 minutes/);

    world.advance(31 * MINUTE);
    const done = await promote(world.runtime, log, {
      app: 'orders-api',
      from: 'dev',
      to: 'staging',
      trigger: 'schedule',
    });
    expect(done).toMatchObject({ status: 'promoted', build: '3', codeSha256: sha256(zips.get('3') as Buffer) });
    expect(current('staging')).toMatchObject({ build: '3', source: current('dev')?.source });
    expect(Object.keys(current('staging')?.targets ?? {})).toHaveLength(2);
    expect(entries('staging')[0]).toMatchObject({ trigger: 'schedule', outcome: 'succeeded' });

    const again = await runScheduledPromotions(world.runtime, log, {});
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      status: 'nothing-to-promote',
      reason: 'nothing to promote: staging already runs 3',
    });
    expect(entries('staging')).toHaveLength(1);
  });

  it('refuses an artifact whose bytes no longer match what the source stage runs', async () => {
    const { key, versionId } = await put('4');
    await deployBuild(world.runtime, log, {
      app: app as NonNullable<typeof app>,
      build: '4',
      location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
      stages: ['dev'],
      trigger: 'upload',
    });
    // S3 versions are immutable, so the tampering is in what ferry reads from its bucket: another
    // writer uploads other bytes under the key and points the stage's record at that version.
    const tampered = await world.putArtifact('orders-api', '4', await makeZip([{ name: 'index.mjs', content: 'x' }]));
    expect(tampered.versionId).not.toBe(versionId);
    const record = current('dev');
    await world.putObject(
      'ledger/orders-api/dev/current.json',
      JSON.stringify({ ...record, source: { ...record?.source, versionId: tampered.versionId } }),
    );
    world.advance(31 * MINUTE);
    const result = await promote(world.runtime, log, { app: 'orders-api', from: 'dev', to: 'staging', trigger: 'cli' });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/PROMOTION_CHECKSUM_MISMATCH/);
    expect(versionsOf(stagingApi)).toEqual([]);
    expect(entries('staging')[0]).toMatchObject({ outcome: 'rejected', code: 'PROMOTION_CHECKSUM_MISMATCH' });
  });

  it('a dry run returns the plan and changes nothing', async () => {
    await upload('5');
    world.advance(31 * MINUTE);
    const plan = await promote(world.runtime, log, {
      app: 'orders-api',
      from: 'dev',
      to: 'staging',
      trigger: 'cli',
      dryRun: true,
    });
    expect(plan.status).toBe('planned');
    expect(plan.deployment?.stages[0]?.targets.map((t) => t.status)).toEqual(['planned', 'planned']);
    expect(entries('staging')).toHaveLength(0);
    expect(versionsOf(stagingApi)).toEqual([]);
  });

  it('nothing to promote when the source stage has no build', async () => {
    const result = await promote(world.runtime, log, {
      app: 'orders-api',
      from: 'dev',
      to: 'staging',
      trigger: 'schedule',
    });
    expect(result).toMatchObject({ status: 'nothing-to-promote', reason: 'nothing to promote: dev has no live build' });
  });

  it('the schedule handler logs one summary line per rule and does not throw for nothing to promote', async () => {
    const handler = createScheduledPromotionHandler(() => world.runtime, log);
    const summary = await handler({ app: 'orders-api', from: 'dev', to: 'staging' });
    expect(summary.results).toEqual([
      {
        app: 'orders-api',
        from: 'dev',
        to: 'staging',
        status: 'nothing-to-promote',
        reason: 'nothing to promote: dev has no live build',
      },
    ]);
    expect(log.lines.filter((l) => l.message.startsWith('promotion '))).toHaveLength(1);
  });
});

describe('the scheduled-promotion handler', () => {
  it.each([
    ['an array', [{ app: 'orders-api' }]],
    ['a string', 'orders-api'],
    ['null', null],
  ])('refuses %s as schedule input with a log line, and promotes nothing', async (_, event) => {
    await upload('9');
    world.advance(60 * MINUTE);
    const handler = createScheduledPromotionHandler(() => world.runtime, log);
    expect(await handler(event)).toEqual({ results: [] });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'scheduled promotion rejected',
        attributes: expect.objectContaining({ errorCode: 'SCHEDULE_INPUT_INVALID' }),
      }),
    );
    expect(current('staging')).toBeUndefined();
  });

  it.each([
    [
      'a number where a stage belongs',
      { app: 'orders-api', from: 5, to: 'staging' },
      'staging',
      "'from' must be a string",
    ],
    ['an unknown stage', { app: 'orders-api', from: 'dev', to: 'stagign' }, '_upload', "stage 'stagign'"],
    [
      'a pair without a rule',
      { app: 'orders-api', from: 'dev', to: 'prod' },
      'prod',
      'no promotion rule from dev to prod',
    ],
  ])(
    'files a schedule input with %s for a known app in its ledger, with the reason',
    async (_, event, stage, reason) => {
      await upload('9');
      const handler = createScheduledPromotionHandler(() => world.runtime, log);
      expect(await handler(event)).toEqual({ results: [] });
      expect(entries(stage)).toContainEqual(
        expect.objectContaining({
          app: 'orders-api',
          trigger: 'schedule',
          outcome: 'rejected',
          code: 'SCHEDULE_INPUT_INVALID',
          reason: expect.stringContaining(reason),
        }),
      );
      expect(current('staging')).toBeUndefined();
    },
  );
});

describe('rollback', () => {
  it('goes back to the previous build by default, records it, and a late re-delivery does not undo it', async () => {
    for (const b of ['1', '2']) await upload(b);
    const result = await rollback(world.runtime, log, { app: 'orders-api', stage: 'dev', trigger: 'cli' });
    expect(result).toMatchObject({ status: 'rolled-back', fromBuild: '2', toBuild: '1' });
    expect(world.aliasVersion(dev)).toBe('1');
    expect(current('dev')).toMatchObject({ build: '1', rolledBackFrom: '2', targets: { [dev.id]: '1' } });
    const history = await readHistory(world.runtime, { app: 'orders-api', stage: 'dev' });
    expect(history[0]).toMatchObject({ outcome: 'rolled-back', build: '1' });

    const late = await upload('2');
    expect(late.status).toBe(BuildStatus.Skipped);
    expect(world.aliasVersion(dev)).toBe('1');
  });

  it('a re-delivery of the build rolled back to reuses its version: no duplicate, the alias stays', async () => {
    await upload('9');
    await upload('10');
    await rollback(world.runtime, log, { app: 'orders-api', stage: 'dev', trigger: 'cli' });
    expect(world.aliasVersion(dev)).toBe('1');
    expect(current('dev')).toMatchObject({ build: '9', rolledBackFrom: '10', targets: { [dev.id]: '1' } });
    const calls = lambdaCalls(dev.accountId).length;

    // S3 delivers the event for build 9 again: $LATEST still holds build 10's code.
    const again = await upload('9');

    expect(again.status).toBe(BuildStatus.Succeeded);
    expect(again.stages[0]?.outcomes[0]).toMatchObject({ status: 'unchanged', version: '1', previousVersion: '1' });
    expect(versionsOf(dev)).toEqual(['1', '2']);
    expect(world.aliasVersion(dev)).toBe('1');
    expect(lambdaCalls(dev.accountId).slice(calls).filter(isWrite)).toEqual([]);
    expect(current('dev')).toMatchObject({ build: '9', rolledBackFrom: '10', targets: { [dev.id]: '1' } });
  });

  it('after a rollback, a re-delivery points an alias moved elsewhere back at the known version', async () => {
    await upload('9');
    await upload('10');
    await rollback(world.runtime, log, { app: 'orders-api', stage: 'dev', trigger: 'cli' });
    await moveAlias(dev, '2');

    const again = await upload('9');

    // The alias moved back from 2 to 1: a deployment, though no new version was needed.
    expect(again.stages[0]?.outcomes[0]).toMatchObject({ status: 'deployed', version: '1', previousVersion: '2' });
    expect(again.stages[0]?.outcomes[0]?.plan?.outcome).toBe('point-alias');
    expect(versionsOf(dev)).toEqual(['1', '2']);
    expect(world.aliasVersion(dev)).toBe('1');
  });

  it('a known version that no longer holds the artifact is not trusted: the code is deployed again', async () => {
    await upload('9');
    await upload('10');
    await rollback(world.runtime, log, { app: 'orders-api', stage: 'dev', trigger: 'cli' });
    // The function was deleted and re-created meanwhile: version 1 now holds other code.
    const other = await makeZip([{ name: 'index.mjs', content: 'something else' }]);
    const lambda = world.lambdaAs(dev.accountId);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: dev.functionName }));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: dev.functionName,
        Role: `arn:aws:iam::${dev.accountId}:role/orders-api-role`,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Code: { ZipFile: other },
        Publish: true,
      }),
    );
    world.advance(MINUTE);
    await lambda.send(new CreateAliasCommand({ FunctionName: dev.functionName, Name: 'live', FunctionVersion: '1' }));
    expect(world.fn(dev).versions).toEqual([expect.objectContaining({ version: '1', codeSha256: sha256(other) })]);

    const again = await upload('9');

    expect(again.stages[0]?.outcomes[0]).toMatchObject({ status: 'deployed', version: '2' });
    expect(world.fn(dev).versions.find((v) => v.version === '2')?.codeSha256).toBe(sha256(zips.get('9') as Buffer));
    expect(world.aliasVersion(dev)).toBe('2');
  });

  it('rolls back to a named build or version, and a dry run moves nothing', async () => {
    for (const b of ['1', '2', '3']) await upload(b);
    const planned = await rollback(world.runtime, log, {
      app: 'orders-api',
      stage: 'dev',
      toBuild: '2',
      dryRun: true,
      trigger: 'cli',
    });
    expect(planned).toMatchObject({ status: 'planned', toBuild: '2', targets: [{ fromVersion: '3', toVersion: '2' }] });
    expect(world.aliasVersion(dev)).toBe('3');

    expect(
      (await rollback(world.runtime, log, { app: 'orders-api', stage: 'dev', toVersion: '2', trigger: 'cli' })).toBuild,
    ).toBe('2');
    expect(world.aliasVersion(dev)).toBe('2');
  });

  it('refuses when there is nothing older to go back to', async () => {
    await upload('1');
    await expect(
      rollback(world.runtime, log, { app: 'orders-api', stage: 'dev', trigger: 'cli' }),
    ).rejects.toMatchObject({
      code: 'NOTHING_TO_ROLL_BACK',
    });
  });
});

describe('status', () => {
  it('shows build, versions and checksum per stage, and flags an alias moved outside ferry', async () => {
    for (const b of ['1', '2']) await upload(b);
    let report = await readStatus(world.runtime, { app: 'orders-api' });
    const row = report.rows.find((r) => r.stage === 'dev');
    expect(row).toMatchObject({ build: '2', versions: { [dev.id]: '2' }, checksumMatches: true, drift: [] });
    expect(report.rows.find((r) => r.stage === 'staging')).toMatchObject({ checksumMatches: false, drift: [] });

    await moveAlias(dev, '1');
    report = await readStatus(world.runtime, {});
    const drifted = report.rows.find((r) => r.stage === 'dev');
    expect(drifted?.checksumMatches).toBe(false);
    expect(drifted?.drift.join('\n')).toMatch(/points at version 1, the ledger says 2/);
    expect(drifted?.targets[0]?.liveBuild).toBe('1');
  });
});
