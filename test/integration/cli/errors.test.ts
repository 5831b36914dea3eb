/**
 * Errors a person meets first, against the sandbox: each names what to do, never the SDK's class,
 * and exits with the code of its kind.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli-world.js';
import { type FerryWorld, makeFunctionZip, startFerryWorld, TWO_ACCOUNTS } from '../../support/sandbox-harness.js';

let world: FerryWorld;
let dir: string;
let zip: string;

beforeAll(async () => {
  world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
  dir = await mkdtemp(join(tmpdir(), 'ferry-errors-it-'));
  zip = join(dir, 'build.zip');
  await writeFile(zip, await makeFunctionZip('build'));
});
afterAll(async () => {
  await world.stop();
  await rm(dir, { recursive: true, force: true });
});

async function ferry(env: Record<string, string | undefined>, ...argv: string[]) {
  // The SDK's credential chain and endpoint read process.env itself: change it for this run only.
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const merged: NodeJS.ProcessEnv = { ...process.env, AWS_MAX_ATTEMPTS: '1' };
  return runFerry(argv, merged, dir).finally(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

const config = (changes: Record<string, unknown>) => JSON.stringify({ ...TWO_ACCOUNTS, ...changes });

describe('errors that say what to do', () => {
  it('no credentials: exit 4 and the ways to provide them, not CredentialsProviderError', async () => {
    const none = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    };
    for (const argv of [['upload', zip, '--app', 'orders-api', '--build', '1'], ['status']]) {
      const run = await ferry(none, ...argv);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toContain('No AWS credentials found. Provide them with AWS_PROFILE=<profile>');
      expect(run.stderr).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      expect(run.stderr).toContain('[NO_CREDENTIALS]');
      expect(run.stderr).not.toContain('CredentialsProviderError');
    }
  });

  it('a bucket in another Region: exit 2 naming the bucket’s Region', async () => {
    const run = await ferry(
      { FERRY_CONFIG: config({ region: 'us-east-1' }) },
      'upload',
      zip,
      '--app',
      'orders-api',
      '--build',
      '2',
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(
      `The bucket ${TWO_ACCOUNTS.artifactBucket} is in Region eu-west-1, not us-east-1: set \`region: eu-west-1\``,
    );
  });

  it('a bucket that does not exist: exit 2 naming it', async () => {
    const run = await ferry(
      { FERRY_CONFIG: config({ artifactBucket: 'ferry-no-such-bucket' }) },
      'history',
      '--app',
      'orders-api',
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('The bucket ferry-no-such-bucket does not exist. Check `artifactBucket`');
  });

  it('nothing at the endpoint: exit 5 naming it', async () => {
    const run = await ferry({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, 'history', '--app', 'orders-api', '--json');
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain('Nothing answers at http://127.0.0.1:9');
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'error',
      exitCode: 5,
      error: { code: 'ENDPOINT_UNREACHABLE' },
    });
  });
});
