/**
 * The CLI's uploads against the sandbox, with the upload trigger connected as in AWS:
 * `ferry deploy ./zip --stage S` deploys into S only (its upload is recorded as ferry's own copy and
 * skipped by the trigger), and `ferry upload` never replaces a build's bytes.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readHistory } from '../../../src/engine/ledger.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { type CliWorld, startCliWorld } from '../../support/cli-world.js';
import { DEV_AND_PROD } from '../../support/ferry-worlds.js';
import { type FerryWorld, recordLog } from '../../support/sandbox-harness.js';

const REGION = 'eu-west-1';
const DEV = '222222222222';
const PROD = '444444444444';
const CONFIG = DEV_AND_PROD;
let cli: CliWorld;
let world: FerryWorld;
let runtime: Runtime;

beforeEach(async () => {
  cli = await startCliWorld({ config: CONFIG, lambda: { updateDelayMs: 20 } });
  world = cli.world;
  runtime = world.createRuntime();
  world.connectUploadHandler(runtime, recordLog());
});
afterEach(() => cli.stop());

const ferry = (...argv: string[]) => cli.ferry(...argv);
const writeZip = (name: string) => cli.writeZip(name);

const liveVersion = (account: string) =>
  world.sandbox.lambda.describeFunction(account, REGION, 'orders-api')?.aliases.find((a) => a.name === 'live')
    ?.functionVersion;

describe('CLI uploads and the upload trigger', () => {
  it('ferry deploy ./zip --stage prod deploys prod only; the upload trigger records its copy and skips it', async () => {
    const run = await ferry(
      'deploy',
      await writeZip('hotfix'),
      '--app',
      'orders-api',
      '--stage',
      'prod',
      '--build',
      '7',
    );
    expect(run.code, run.stderr).toBe(0);
    await world.sandbox.drainEvents();

    expect(liveVersion(PROD)).toBe('2');
    expect(liveVersion(DEV)).toBe('1');
    expect(world.sandbox.countRequests({ operation: 'UpdateFunctionCode', accountId: DEV })).toBe(0);
    const [skipped] = await readHistory(runtime, { app: 'orders-api', stage: '_upload' });
    expect(skipped).toMatchObject({ build: '7', outcome: 'skipped', code: 'FERRY_COPY', trigger: 'upload' });
    expect(skipped?.reason).toMatch(/staged by ferry deploy into prod by arn:aws:sts::111111111111:assumed-role\//);
  });

  it('ferry upload refuses other bytes under an existing build id, and does not rewrite the same bytes', async () => {
    const first = await ferry('upload', await writeZip('build-5'), '--app', 'orders-api', '--build', '5');
    expect(first.code, first.stderr).toBe(0);
    await world.sandbox.drainEvents();
    expect(liveVersion(DEV)).toBe('2');

    const other = await ferry('upload', await writeZip('build-5-changed'), '--app', 'orders-api', '--build', '5');
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/already holds build 5 of orders-api with other bytes.*Builds are immutable/);

    const again = await ferry('upload', join(cli.dir, 'build-5.zip'), '--app', 'orders-api', '--build', '5');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('was already uploaded with these bytes');
    await world.sandbox.drainEvents();
    // Nothing was written either time, so no upload event: the one deployment is the first upload's.
    expect(await readHistory(runtime, { app: 'orders-api', stage: 'dev' })).toHaveLength(1);
    expect(liveVersion(DEV)).toBe('2');
    expect(world.sandbox.lambda.describeFunction(DEV, REGION, 'orders-api')?.versions).toHaveLength(2);
  });
});
