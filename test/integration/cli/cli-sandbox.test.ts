import { LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliWorld, startCliWorld } from '../../support/cli-world.js';
import { type FerryWorld, TWO_ACCOUNTS } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const ACCOUNTS = ['222222222222', '333333333333'];
const BUCKET = TWO_ACCOUNTS.artifactBucket;
let cli: CliWorld;
let world: FerryWorld;

beforeEach(async () => {
  // No upload handler is connected: the CLI is the only deployer, so each step's effect is its own.
  cli = await startCliWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
  world = cli.world;
});
afterEach(() => cli.stop());

const ferry = (...argv: string[]) => cli.ferry(...argv);
const writeZip = (name: string) => cli.writeZip(name);

const liveVersion = (account: string) =>
  world.sandbox.lambda.describeFunction(account, REGION, 'orders-api')?.aliases.find((a) => a.name === 'live')
    ?.functionVersion;

describe('the ferry CLI against the sandbox', () => {
  it('uploads, deploys, reports status and history, and plans a rollback', async () => {
    const upload = await ferry(
      'upload',
      await writeZip('build-1'),
      '--app',
      'orders-api',
      '--build',
      '1',
      '--commit',
      'c1',
      '--json',
    );
    expect(upload.code, upload.stderr).toBe(0);
    const uploaded = upload.json<{ key: string; versionId: string; sha256: string }>();
    expect(uploaded.key).toBe('artifacts/orders-api/1.zip');
    expect(uploaded.versionId).toBeTruthy();

    const first = await ferry(
      'deploy',
      `s3://${BUCKET}/${uploaded.key}?versionId=${uploaded.versionId}`,
      '--app',
      'orders-api',
      '--stage',
      'dev',
      '--json',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({
      app: 'orders-api',
      build: '1',
      status: 'succeeded',
      codeSha256: uploaded.sha256,
    });
    expect(first.stderr.trim().split('\n').sort()).toEqual([
      expect.stringMatching(/^deployed {2}dev 222222222222\/eu-west-1\/orders-api:live v1 → v2 \(/),
      expect.stringMatching(/^deployed {2}dev 333333333333\/eu-west-1\/orders-api:live v1 → v2 \(/),
    ]);
    expect(ACCOUNTS.map(liveVersion)).toEqual(['2', '2']);

    // A local zip: uploaded first, then that exact object version deployed.
    const second = await ferry(
      'deploy',
      await writeZip('build-2'),
      '--app',
      'orders-api',
      '--stage',
      'dev',
      '--build',
      '2',
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(
      /^uploaded s3:\/\/ferry-artifacts-111111111111\/artifacts\/orders-api\/2\.zip \(version .+\)$/m,
    );
    expect(second.stdout).toContain('orders-api build 2: succeeded (2 deployed)');
    expect(ACCOUNTS.map(liveVersion)).toEqual(['3', '3']);

    const status = await ferry('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({
      rows: [
        {
          app: 'orders-api',
          stage: 'dev',
          build: '2',
          checksumMatches: true,
          drift: [],
          versions: { '222222222222/eu-west-1/orders-api:live': '3', '333333333333/eu-west-1/orders-api:live': '3' },
        },
      ],
    });

    const history = await ferry('history', '--app', 'orders-api', '--json');
    expect(history.code, history.stderr).toBe(0);
    const { entries } = history.json<{ entries: { build: string; trigger: string; outcome: string }[] }>();
    expect(entries.map((e) => [e.build, e.trigger, e.outcome])).toEqual([
      ['2', 'cli', 'succeeded'],
      ['1', 'cli', 'succeeded'],
    ]);
    const table = await ferry('history', '--app', 'orders-api', '--stage', 'dev', '--limit', '1');
    expect(table.code).toBe(0);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    expect(table.stdout).toMatch(/dev +2 +cli +succeeded +2→3/);

    const plan = await ferry('rollback', '--app', 'orders-api', '--stage', 'dev', '--dry-run', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json()).toMatchObject({
      status: 'planned',
      fromBuild: '2',
      toBuild: '1',
      targets: [
        { fromVersion: '3', toVersion: '2', status: 'planned' },
        { fromVersion: '3', toVersion: '2', status: 'planned' },
      ],
    });
    expect(ACCOUNTS.map(liveVersion)).toEqual(['3', '3']);

    const human = await ferry('rollback', '--app', 'orders-api', '--stage', 'dev', '--dry-run');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/222222222222\/eu-west-1\/orders-api:live +3 +2 +planned/);
  });

  it('flags drift when an alias was moved outside ferry', async () => {
    const deploy = await ferry(
      'deploy',
      await writeZip('build-1'),
      '--app',
      'orders-api',
      '--stage',
      'dev',
      '--build',
      '1',
    );
    expect(deploy.code, deploy.stderr).toBe(0);
    const lambda = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials('222222222222'), REGION));
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '1' }));

    const status = await ferry('status');
    expect(status.code, status.stderr).toBe(6);
    expect(status.stdout).toMatch(/^APP +DEV$/m);
    expect(status.stdout).toMatch(/^orders-api +1 v1,2 .* DRIFT$/m);
    expect(status.stdout).toContain(
      'orders-api dev 222222222222/eu-west-1/orders-api:live: alias live points at version 1, the ledger says 2',
    );
    const wide = await ferry('status', '--app', 'orders-api');
    expect(wide.code).toBe(6);
    expect(wide.stdout).toMatch(
      /^orders-api +dev +222222222222\/eu-west-1\/orders-api:live +- +1 +2 +1 +.* DRIFT +alias live points at version 1/m,
    );
  });

  it('exits 4 naming the role when the deploy role cannot be assumed', async () => {
    await cli.stop();
    cli = await startCliWorld({
      config: TWO_ACCOUNTS,
      lambda: { updateDelayMs: 20 },
      deployRoleTrust: () => ({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    world = cli.world;
    const deploy = await ferry(
      'deploy',
      await writeZip('build-1'),
      '--app',
      'orders-api',
      '--stage',
      'dev',
      '--build',
      '1',
    );
    expect(deploy.code).toBe(4);
    expect(deploy.stdout).toContain('orders-api build 1: failed (2 failed)');
    expect(deploy.stderr).toContain('ferry-deploy');
    expect(deploy.stderr).not.toMatch(/AWS_SECRET|SecretAccessKey|SessionToken/);
  });
});
