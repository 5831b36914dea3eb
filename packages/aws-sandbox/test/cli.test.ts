import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';

const SEED = `
accounts:
  - name: tooling
    id: "123456789012"
    accessKeyId: AKIASEEDTOOLING00001
    secretAccessKey: seed-secret
  - name: dev
buckets:
  - account: tooling
    name: ferry-artifacts
    versioning: true
functions:
  - account: dev
    name: orders-api
    source: "export const handler = async () => 'ok';"
    aliases: [live]
`;

/** Starts the CLI and resolves with its env lines once it has printed the last account. */
function startCli(seedPath: string): { child: ChildProcess; env: Promise<Record<string, string>> } {
  const child = spawn(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', 'packages/aws-sandbox/src/cli.ts', '--seed', seedPath, '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const env = new Promise<Record<string, string>>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (/SANDBOX_DEV_SECRET_ACCESS_KEY=.*\n/.test(text)) {
        resolve(
          Object.fromEntries(
            text
              .trim()
              .split('\n')
              .map((line) => line.split('=', 2) as [string, string]),
          ),
        );
      }
    });
    child.once('exit', (code) => reject(new Error(`cli exited early with ${code}`)));
  });
  return { child, env };
}

describe('sandbox CLI', () => {
  let dir: string | undefined;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('seeds accounts, prints env lines, serves the SDK and stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-sandbox-cli-'));
    const seedPath = join(dir, 'seed.yml');
    await writeFile(seedPath, SEED);
    const started = startCli(seedPath);
    child = started.child;
    const env = await started.env;
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      SANDBOX_TOOLING_ACCOUNT_ID: '123456789012',
      AWS_ACCESS_KEY_ID: 'AKIASEEDTOOLING00001',
    });
    const sts = new STSClient({
      endpoint: env.AWS_ENDPOINT_URL,
      region: 'eu-west-1',
      credentials: {
        accessKeyId: env.SANDBOX_DEV_ACCESS_KEY_ID ?? '',
        secretAccessKey: env.SANDBOX_DEV_SECRET_ACCESS_KEY ?? '',
      },
      maxAttempts: 1,
    });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(env.SANDBOX_DEV_ACCOUNT_ID);

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
