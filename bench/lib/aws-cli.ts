/**
 * The hand-made pipeline: the AWS CLI v2 sequence a CI job runs to deploy one function in another
 * account (assume-role, update-function-code, wait function-updated-v2, publish-version,
 * update-alias), each a separate `aws` process, as in a shell script.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked, runProcess } from './children.js';

/** Debian's awscli package installs /usr/bin/aws; FERRY_BENCH_AWS_CLI overrides it. */
export const DEBIAN_AWS_CLI = '/usr/bin/aws';

export interface AwsCliTool {
  readonly path: string;
  readonly version: string;
  /** The waiter the sequence uses: function-updated (GetFunctionConfiguration, as ferry polls). */
  readonly waiter: 'function-updated';
}

export type AwsCliProbe =
  | { readonly available: true; readonly tool: AwsCliTool }
  | { readonly available: false; readonly why: string };

export async function probeAwsCli(workDir: string): Promise<AwsCliProbe> {
  const path = process.env.FERRY_BENCH_AWS_CLI ?? DEBIAN_AWS_CLI;
  if (!existsSync(path)) {
    return { available: false, why: `${path} not found (install Debian's: apt-get install -y awscli)` };
  }
  const version = await runProcess(path, ['--version'], { env: isolatedEnv(workDir, {}), timeoutMs: 30_000 });
  const text = `${version.stdout}${version.stderr}`.trim();
  if (version.code !== 0) return { available: false, why: `${path} --version failed: ${text}` };
  return {
    available: true,
    // function-updated polls GetFunctionConfiguration, which the deploy role grants (function-updated-v2
    // polls GetFunction, which it does not): the same read ferry polls with.
    tool: { path, version: text.split(/\s/)[0] ?? text, waiter: 'function-updated' },
  };
}

/** No profile, no config files, no instance metadata: only what the pipeline passes. */
function isolatedEnv(workDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: workDir,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...extra,
  };
}

export interface AwsCliDeployInput {
  readonly endpoint: string;
  readonly region: string;
  /** The caller's credentials (ferry's execution role, so both contenders act as the same identity). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly roleArn: string;
  readonly externalId: string;
  readonly functionName: string;
  readonly alias: string;
  readonly zipPath: string;
  readonly workDir: string;
}

export interface AwsCliDeployTimes {
  readonly assumeRole: number;
  readonly updateCode: number;
  readonly wait: number;
  readonly publish: number;
  readonly updateAlias: number;
  readonly total: number;
  readonly version: string;
  readonly codeSha256: string;
}

export async function runAwsCliDeploy(tool: AwsCliTool, input: AwsCliDeployInput): Promise<AwsCliDeployTimes> {
  const common = ['--endpoint-url', input.endpoint, '--region', input.region, '--output', 'json'];
  const callerEnv = isolatedEnv(input.workDir, {
    AWS_ACCESS_KEY_ID: input.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: input.credentials.secretAccessKey,
    ...(input.credentials.sessionToken ? { AWS_SESSION_TOKEN: input.credentials.sessionToken } : {}),
  });
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    runChecked(tool.path, [...args, ...common], { env, timeoutMs: 120_000 });

  const assumed = await run(
    [
      'sts',
      'assume-role',
      '--role-arn',
      input.roleArn,
      '--role-session-name',
      'handmade-pipeline',
      '--external-id',
      input.externalId,
    ],
    callerEnv,
  );
  const creds = (JSON.parse(assumed.stdout) as { Credentials: Record<string, string> }).Credentials;
  const roleEnv = isolatedEnv(input.workDir, {
    AWS_ACCESS_KEY_ID: creds.AccessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey ?? '',
    AWS_SESSION_TOKEN: creds.SessionToken ?? '',
  });
  const fn = ['--function-name', input.functionName];
  const update = await run(
    ['lambda', 'update-function-code', ...fn, '--zip-file', `fileb://${input.zipPath}`],
    roleEnv,
  );
  const wait = await run(['lambda', 'wait', tool.waiter, ...fn], roleEnv);
  const published = await run(['lambda', 'publish-version', ...fn], roleEnv);
  const { Version: version, CodeSha256: codeSha256 } = JSON.parse(published.stdout) as {
    Version: string;
    CodeSha256: string;
  };
  const alias = await run(
    ['lambda', 'update-alias', ...fn, '--name', input.alias, '--function-version', version],
    roleEnv,
  );
  return {
    assumeRole: assumed.ms,
    updateCode: update.ms,
    wait: wait.ms,
    publish: published.ms,
    updateAlias: alias.ms,
    total: assumed.ms + update.ms + wait.ms + published.ms + alias.ms,
    version,
    codeSha256,
  };
}
