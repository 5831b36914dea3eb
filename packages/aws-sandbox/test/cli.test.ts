import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';

const SEED = `
accounts:
  - name: tooling
    id: "123456789012"
  - name: dev
    id: "210987654321"
roles:
  - account: tooling
    name: ci
    maxSessionDuration: 7200
    trustPolicy: { Statement: [{ Effect: Allow, Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: sts:AssumeRole }] }
    policies: [{ Statement: [{ Effect: Allow, Action: sts:AssumeRole, Resource: "*" }] }]
  - account: dev
    name: deploy
    trustPolicy: { Statement: [{ Effect: Allow, Principal: { AWS: "arn:aws:iam::123456789012:role/ci" }, Action: sts:AssumeRole }] }
buckets:
  - account: tooling
    name: artifacts
    versioning: true
functions:
  - account: dev
    name: orders-api
    source: "export const handler = async () => 'ok';"
    aliases: [live]
session: { role: tooling/ci, name: ci-job, durationSeconds: 7200 }
environment:
  TOOL_SETTING: "a value with spaces and 'quotes'"
`;

const CLI = ['--no-warnings', '--import', 'tsx', 'packages/aws-sandbox/src/cli.ts'];

interface Run {
  child: ChildProcess;
  /** Everything on stdout once the process has written its environment (or exited). */
  stdout: Promise<string>;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stdout = new Promise<string>((resolve) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('\n') && text.includes('AWS_REGION')) resolve(text);
    });
    void exited.then(() => resolve(text));
  });
  return { child, stdout, stderr: () => err, exited };
}

/** The environment a POSIX shell gets from sourcing the export lines. */
function sourceExports(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => {
        const match = /^export ([A-Za-z_]\w*)=(.*)$/.exec(line);
        if (!match?.[1] || match[2] === undefined) throw new Error(`not an export line: ${line}`);
        const raw = match[2];
        const value = raw.startsWith("'") ? raw.slice(1, -1).replaceAll(`'\\''`, "'") : raw;
        return [match[1], value];
      }),
  );
}

describe('sandbox CLI', () => {
  let dir: string | undefined;
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints only export lines on stdout, with role-session credentials that can assume roles, and stops on --stop', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-sandbox-cli-'));
    const seedPath = join(dir, 'seed.yml');
    await writeFile(seedPath, SEED);
    const server = startCli(['--seed', seedPath, '--port', '0']);
    children.push(server.child);
    const stdout = await server.stdout;
    for (const line of stdout.trim().split('\n')) expect(line).toMatch(/^export [A-Z_]+=/);
    const env = sourceExports(stdout);
    expect(Object.keys(env)).toEqual([
      'AWS_ENDPOINT_URL',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'TOOL_SETTING',
    ]);
    expect(env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(env.TOOL_SETTING).toBe("a value with spaces and 'quotes'");
    // People's information (accounts, root keys, how to stop) is on stderr.
    expect(server.stderr()).toContain('account dev 210987654321');

    const sts = new STSClient({
      endpoint: env.AWS_ENDPOINT_URL,
      region: 'eu-west-1',
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
        sessionToken: env.AWS_SESSION_TOKEN ?? '',
      },
      maxAttempts: 1,
    });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      'arn:aws:sts::123456789012:assumed-role/ci/ci-job',
    );
    const assumed = await sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::210987654321:role/deploy', RoleSessionName: 'deploy' }),
    );
    expect(assumed.AssumedRoleUser?.Arn).toBe('arn:aws:sts::210987654321:assumed-role/deploy/deploy');

    const stopper = startCli(['--stop'], { ...process.env, AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL });
    children.push(stopper.child);
    expect(await stopper.exited, stopper.stderr()).toBe(0);
    expect(await server.exited).toBe(0);
  });

  it('stops cleanly on SIGTERM', async () => {
    const server = startCli(['--port', '0']);
    children.push(server.child);
    expect(sourceExports(await server.stdout)).toEqual({
      AWS_ENDPOINT_URL: expect.stringMatching(/^http:/),
      AWS_REGION: 'eu-west-1',
    });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('prints its usage on --help and refuses unknown options, pointing at --help', async () => {
    const help = startCli(['--help']);
    children.push(help.child);
    expect(await help.exited).toBe(0);
    expect(await help.stdout).toContain('Usage: npm run sandbox');
    const bad = startCli(['--sede', 'x.yml']);
    children.push(bad.child);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/Unknown option '--sede'.*--help/);
  });

  it('refuses a session role the seed does not define, printing no environment', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-sandbox-cli-'));
    const seedPath = join(dir, 'seed.yml');
    await writeFile(seedPath, 'accounts: [{ name: tooling }]\nsession: { role: tooling/nobody }\n');
    const run = startCli(['--seed', seedPath, '--port', '0']);
    children.push(run.child);
    expect(await run.exited).toBe(1);
    expect(await run.stdout).toBe('');
    expect(run.stderr()).toContain('unknown role arn:aws:iam::');
  });
});
