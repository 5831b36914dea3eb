import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliWorld, startCliWorld } from '../../support/cli-world.js';
import { type FerryWorld, makeFunctionZip, TWO_ACCOUNTS } from '../../support/sandbox-harness.js';

let cli: CliWorld;
let world: FerryWorld;

beforeEach(async () => {
  // Functions exist with their `live` alias on the initial code; ferry has recorded nothing.
  cli = await startCliWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
  world = cli.world;
});
afterEach(() => cli.stop());

const ferry = (...argv: string[]) => cli.ferry(...argv);

describe('ferry adopt', () => {
  it('records what the aliases serve as the starting point, so status is clean, and rollback can return to it', async () => {
    const before = await ferry('status');
    expect(before.code).toBe(6);
    expect(before.stdout).toMatch(/^orders-api +none v1 DRIFT$/m);
    expect(before.stdout).toContain('never deployed by ferry: `ferry adopt`');

    const dry = await ferry('adopt', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^orders-api +dev +would adopt +0-adopted +v1 +2 target\(s\)/m);
    expect((await ferry('status')).code).toBe(6);

    const adopted = await ferry('adopt', '--json');
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.json()).toMatchObject({
      dryRun: false,
      caller: 'arn:aws:sts::111111111111:assumed-role/ferry-execution/ferry-lambda',
      stages: [{ app: 'orders-api', stage: 'dev', plan: { kind: 'adopt', build: '0-adopted' } }],
    });

    const after = await ferry('status');
    expect(after.code, after.stdout).toBe(0);
    expect(after.stdout).toMatch(/^orders-api +0-adopted v1 \d+s ok$/m);

    const history = await ferry('history', '--app', 'orders-api', '--json');
    const { entries } = history.json<{
      entries: { build: string; outcome: string; caller: string; trigger: string }[];
    }>();
    expect(entries).toMatchObject([
      {
        build: '0-adopted',
        outcome: 'adopted',
        trigger: 'cli',
        caller: 'arn:aws:sts::111111111111:assumed-role/ferry-execution/ferry-lambda',
      },
    ]);

    const again = await ferry('adopt');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^orders-api +dev +recorded +0-adopted/m);

    const zip = await cli.writeZip('build-1', await makeFunctionZip('build 1'));
    const deploy = await ferry('deploy', zip, '--app', 'orders-api', '--stage', 'dev', '--build', '1');
    expect(deploy.code, deploy.stderr).toBe(0);
    const back = await ferry('rollback', '--app', 'orders-api', '--stage', 'dev', '--json');
    expect(back.code, back.stderr).toBe(0);
    expect(back.json()).toMatchObject({ toBuild: '0-adopted', targets: [{ toVersion: '1' }, { toVersion: '1' }] });
    expect((await ferry('status')).code).toBe(0);
  });

  it('refuses a stage whose targets serve different code, recording nothing (exit 3)', async () => {
    const other = await makeFunctionZip('hand-deployed');
    const {
      LambdaClient,
      UpdateFunctionCodeCommand,
      PublishVersionCommand,
      UpdateAliasCommand,
      waitUntilFunctionUpdatedV2,
    } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials('333333333333'), 'eu-west-1'));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders-api', ZipFile: other }));
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'orders-api' });
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: published.Version }),
    );

    const run = await ferry('adopt', '--app', 'orders-api', '--stage', 'dev');
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/refused .*serve different code/);
    const history = await ferry('history', '--app', 'orders-api', '--json');
    expect(history.json<{ entries: unknown[] }>().entries).toEqual([]);
  });

  it('names the stage it does not know, with a suggestion (exit 3)', async () => {
    const run = await ferry('adopt', '--stage', 'devv');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("No stage 'devv' is configured. Did you mean 'dev'?");
  });
});
