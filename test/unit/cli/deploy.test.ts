import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Target } from '../../../src/core/config.js';
import { AccessError, ConflictError, DeployFailedError, ThrottledError } from '../../../src/core/errors.js';
import type { BuildDeployRequest, BuildDeployResult } from '../../../src/engine/deploy-build.js';
import type { TargetOutcome } from '../../../src/engine/deploy-stage.js';
import { makeZip } from '../../support/zips.js';
import { CONFIG, createHarness, type Harness } from './cli-harness.js';

const config = parseConfig(CONFIG);
const app = config.apps['orders-api'];
const targetsOf = (stage: string): readonly Target[] => app?.targets[stage] ?? [];
const [devTarget] = targetsOf('dev');
const [apiTarget, workerTarget] = targetsOf('staging');

function outcome(target: Target | undefined, extra: Partial<TargetOutcome> = {}): TargetOutcome {
  if (!target) throw new Error('no target');
  return {
    target,
    status: 'deployed',
    previousVersion: '3',
    version: '4',
    codeSha256: 'c2hh',
    durationMs: 1200,
    ...extra,
  };
}

/** A fake deployBuild: records the request, reports each outcome through onTargetDone, returns the result. */
function fakeDeploy(harness: Harness, outcomes: TargetOutcome[], status: BuildDeployResult['status'] = 'succeeded') {
  const requests: BuildDeployRequest[] = [];
  harness.engine.deployBuild = async (_runtime, _log, request) => {
    requests.push(request);
    const mine = outcomes.filter((o) => request.targetFilter?.(o.target) ?? true);
    for (const o of mine) request.onTargetDone?.(o);
    const stage = request.stages[0] ?? '';
    return {
      app: request.app.name,
      build: request.build,
      status,
      codeSha256: 'c2hh',
      stages: [
        {
          stage,
          status: status === 'failed' ? 'failed' : status === 'planned' ? 'planned' : 'succeeded',
          outcomes: mine,
        },
      ],
    };
  };
  return requests;
}

describe('ferry deploy s3://…', () => {
  it('deploys exactly the object version named, with trigger cli, into the one stage', async () => {
    const harness = createHarness();
    const requests = fakeDeploy(harness, [outcome(devTarget)]);
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip?versionId=v7',
      '--app',
      'orders-api',
      '--stage',
      'dev',
    );
    expect(run.code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      build: '42',
      location: {
        bucket: 'ferry-artifacts-111111111111',
        key: 'artifacts/orders-api/42.zip',
        versionId: 'v7',
        region: 'eu-west-1',
      },
      stages: ['dev'],
      trigger: 'cli',
    });
    expect(requests[0]?.app.name).toBe('orders-api');
    expect(run.stdout).toMatch(/^STAGE +TARGET +STATUS +VERSION +TIME +DETAIL$/m);
    expect(run.stdout).toContain('orders-api build 42: succeeded (1 deployed)');
  });

  it('prints one progress line per finished target on stderr, and only JSON on stdout with --json', async () => {
    const harness = createHarness();
    fakeDeploy(harness, [
      outcome(apiTarget),
      outcome(workerTarget, { status: 'unchanged', previousVersion: '9', version: '9' }),
    ]);
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'staging',
      '--json',
    );
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([
      'deployed  staging 333333333333/eu-west-1/orders-api:live v3 → v4 (1.2s)',
      'unchanged staging 333333333333/eu-west-1/orders-worker:live v9 (1.2s)',
    ]);
    const json = run.json<{ status: string; stages: { stage: string; outcomes: Record<string, unknown>[] }[] }>();
    expect(json).toMatchObject({ app: 'orders-api', build: '42', status: 'succeeded', codeSha256: 'c2hh' });
    expect(json.stages[0]?.outcomes[0]).toEqual({
      target: {
        id: '333333333333/eu-west-1/orders-api:live',
        account: '333333333333',
        region: 'eu-west-1',
        function: 'orders-api',
        alias: 'live',
      },
      status: 'deployed',
      previousVersion: '3',
      version: '4',
      codeSha256: 'c2hh',
      durationMs: 1200,
    });
    // Role ARNs and ExternalIds are configuration, not output.
    expect(run.stdout).not.toContain('ferry-ext');
    expect(run.stdout).not.toContain('roleArn');
  });

  it('narrows to the --target named (by id, account or function)', async () => {
    const harness = createHarness();
    const requests = fakeDeploy(harness, [outcome(apiTarget), outcome(workerTarget)]);
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'staging',
      '--target',
      'orders-worker',
    );
    expect(run.code).toBe(0);
    const filter = requests[0]?.targetFilter;
    expect(filter && apiTarget && filter(apiTarget)).toBe(false);
    expect(filter && workerTarget && filter(workerTarget)).toBe(true);
  });

  it('says a stage under a traffic shift is shifting, not deployed, and how to follow it', async () => {
    const harness = createHarness();
    harness.engine.deployBuild = async (_runtime, _log, request) => ({
      app: request.app.name,
      build: request.build,
      status: 'succeeded',
      codeSha256: 'c2hh',
      stages: [
        {
          stage: 'staging',
          status: 'shifting',
          outcomes: [
            outcome(apiTarget),
            outcome(workerTarget, { status: 'unchanged', previousVersion: '9', version: '9' }),
          ],
          reason: 'shifting with Canary10Percent5Minutes: 10% on wave 1 of 1',
          shiftId: 'shift-1',
        },
      ],
    });
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'staging',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^staging +${apiTarget?.id} +shifting +3 → 4 `, 'm'));
    expect(run.stdout).not.toMatch(/ deployed /);
    expect(run.stdout).toContain(
      'staging: shifting with Canary10Percent5Minutes: 10% on wave 1 of 1; the traffic tick moves it on: `ferry traffic status --app orders-api --stage staging`',
    );
    expect(run.stdout).toContain('orders-api build 42: succeeded (1 shifting, 1 unchanged)');
  });

  it('passes --dry-run to the engine and prints each target’s plan', async () => {
    const harness = createHarness();
    const plan = {
      outcome: 'point-alias' as const,
      steps: [{ kind: 'point-alias' as const, alias: 'live', version: '4', create: false }],
      previousVersion: '3',
      targetVersion: '4',
    };
    const requests = fakeDeploy(harness, [outcome(devTarget, { status: 'planned', plan })], 'planned');
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'dev',
      '--dry-run',
    );
    expect(run.code).toBe(0);
    expect(requests[0]?.dryRun).toBe(true);
    expect(run.stdout).toMatch(/dev +222222222222\/eu-west-1\/orders-api:live +planned +3 → 4 .*alias/);
    expect(run.stdout).toContain('orders-api build 42: planned');
  });

  it.each([
    ['a conflict that outlived its retries', new ConflictError('RESOURCE_CONFLICT', 'busy'), 5],
    ['throttling', new ThrottledError('THROTTLED', 'slow down'), 5],
    ['access denied', new AccessError('ASSUME_ROLE_DENIED', 'cannot assume'), 4],
    ['a failed update', new DeployFailedError('UPDATE_FAILED', 'Lambda said Failed'), 1],
    ['an unknown error', new Error('socket hang up'), 1],
  ])('exits by failure kind when every target fails with %s', async (_kind, error, code) => {
    const harness = createHarness();
    fakeDeploy(
      harness,
      [outcome(apiTarget, { status: 'failed', error }), outcome(workerTarget, { status: 'failed', error })],
      'failed',
    );
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'staging',
    );
    expect(run.code).toBe(code);
    expect(run.stdout).toContain('orders-api build 42: failed (2 failed)');
  });

  it('exits 1 when targets fail for different reasons', async () => {
    const harness = createHarness();
    fakeDeploy(
      harness,
      [
        outcome(apiTarget, { status: 'failed', error: new AccessError('ASSUME_ROLE_DENIED', 'cannot assume') }),
        outcome(workerTarget, { status: 'failed', error: new ConflictError('RESOURCE_CONFLICT', 'busy') }),
      ],
      'failed',
    );
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'staging',
      '--json',
    );
    expect(run.code).toBe(1);
    const json = run.json<{ stages: { outcomes: { error: unknown }[] }[] }>();
    expect(json.stages[0]?.outcomes.map((o) => o.error)).toEqual([
      { name: 'AccessError', code: 'ASSUME_ROLE_DENIED', kind: 'access', message: 'cannot assume', context: {} },
      { name: 'ConflictError', code: 'RESOURCE_CONFLICT', kind: 'conflict', message: 'busy', context: {} },
    ]);
  });

  it('exits 3 when the stage runs a newer build and the engine skips this one', async () => {
    const harness = createHarness();
    harness.engine.deployBuild = async (_r, _l, request) => ({
      app: 'orders-api',
      build: request.build,
      status: 'skipped',
      stages: [{ stage: 'dev', status: 'skipped', outcomes: [], reason: 'build 41 is older than 42' }],
    });
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/41.zip',
      '--app',
      'orders-api',
      '--stage',
      'dev',
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('dev: skipped, build 41 is older than 42');
  });

  it.each([
    [['--stage', 'qa'], "No stage 'qa' is configured. Stages: dev, staging, prod."],
    [['--stage', 'prod'], "App 'orders-api' has no targets in stage 'prod'."],
    [
      ['--stage', 'dev', '--target', 'nope'],
      '--target nope matches no target of orders-api in dev. Targets: 222222222222/eu-west-1/orders-api:live.',
    ],
  ])('rejects %j before calling the engine (exit 3)', async (extra, message) => {
    const harness = createHarness();
    const run = await harness.run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      ...extra,
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(message);
  });

  it('rejects an object of another app (exit 3)', async () => {
    const run = await createHarness().run(
      'deploy',
      's3://ferry-artifacts-111111111111/artifacts/billing/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'dev',
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("is a build of 'billing', not 'orders-api'");
  });

  it('refuses an object in a bucket that is not configured (exit 3), before anything runs', async () => {
    const harness = createHarness();
    const run = await harness.run(
      'deploy',
      's3://someone-elses-bucket/artifacts/orders-api/42.zip',
      '--app',
      'orders-api',
      '--stage',
      'staging',
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      'ferry deploys only from its artifact bucket, ferry-artifacts-111111111111; s3://someone-elses-bucket is not configured',
    );
  });

  it('refuses a malformed S3 URI as a usage error (exit 2)', async () => {
    const run = await createHarness().run('deploy', 's3://bucket-only', '--app', 'orders-api', '--stage', 'dev');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("'s3://bucket-only' is not an S3 object URI");
  });
});

describe('ferry deploy <zip>', () => {
  let dir: string;
  let zipPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-cli-deploy-'));
    zipPath = join(dir, 'fn.zip');
    await writeFile(zipPath, await makeZip([{ name: 'index.mjs', content: 'export const handler = () => 2;' }]));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('uploads the zip first, then deploys the version it created', async () => {
    const harness = createHarness();
    const copies: unknown[] = [];
    harness.engine.recordDirectDeployCopy = async (_runtime, copy) => {
      copies.push(copy);
      return { schema: 1, kind: 'cli', ...copy, caller: 'me', recordedAt: 'now' };
    };
    const requests = fakeDeploy(harness, [outcome(devTarget)]);
    const run = await harness.run('deploy', zipPath, '--app', 'orders-api', '--stage', 'dev', '--build', '43');
    expect(run.code).toBe(0);
    expect(harness.puts.map((p) => p.key)).toEqual(['artifacts/orders-api/43.zip']);
    expect(requests[0]?.location).toEqual({
      bucket: 'ferry-artifacts-111111111111',
      key: 'artifacts/orders-api/43.zip',
      versionId: 'v-uploaded-1',
      region: 'eu-west-1',
    });
    expect(run.stderr).toContain(
      'uploaded s3://ferry-artifacts-111111111111/artifacts/orders-api/43.zip (version v-uploaded-1)',
    );
    // Recorded as ferry's own copy before the upload, and marked, so the upload trigger leaves it alone.
    expect(copies).toEqual([
      {
        app: 'orders-api',
        build: '43',
        key: 'artifacts/orders-api/43.zip',
        codeSha256: expect.any(String),
        objectChecksumSha256: expect.any(String),
        stage: 'dev',
      },
    ]);
    expect(harness.puts[0]).toMatchObject({ metadata: { 'ferry-trigger': 'cli' }, createOnly: true });
  });

  it('with --dry-run verifies the zip and prints the plan, uploading and deploying nothing', async () => {
    const harness = createHarness();
    const run = await harness.run(
      'deploy',
      zipPath,
      '--app',
      'orders-api',
      '--stage',
      'staging',
      '--build',
      '43',
      '--dry-run',
      '--json',
    );
    expect(run.code).toBe(0);
    expect(harness.puts).toEqual([]);
    expect(run.json()).toMatchObject({
      app: 'orders-api',
      build: '43',
      status: 'planned',
      stage: 'staging',
      upload: { key: 'artifacts/orders-api/43.zip', dryRun: true },
      targets: [{ id: '333333333333/eu-west-1/orders-api:live' }, { id: '333333333333/eu-west-1/orders-worker:live' }],
    });
  });
});
