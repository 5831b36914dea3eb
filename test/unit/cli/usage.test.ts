import { describe, expect, it } from 'vitest';
import { createHarness } from './cli-harness.js';

describe('ferry command line parsing', () => {
  it.each([
    [['deploy', 's3://b/k.zip', '--app', 'orders-api', '--stage', 'dev', '--bogus'], "unknown option '--bogus'"],
    [['upload', 'x.zip'], "required option '--app <app>' not specified"],
    [['deploy', 's3://b/k.zip', '--app', 'orders-api'], "required option '--stage <stage>' not specified"],
    [['history', '--app', 'orders-api', '--limit', 'ten'], "option '--limit <n>' argument 'ten' is invalid"],
    [['history', '--app', 'orders-api', '--limit', '0'], "option '--limit <n>' argument '0' is invalid"],
    [
      ['upload', 'x.zip', '--app', 'a', '--build', 'has space'],
      "option '--build <build>' argument 'has space' is invalid",
    ],
    [['status', '--region', 'mars'], "option '--region <region>' argument 'mars' is invalid"],
    [['rollback', '--app', 'a', '--stage', 'dev', '--to-version', 'latest'], "option '--to-version <version>'"],
    [
      ['rollback', '--app', 'a', '--stage', 'dev', '--to-build', '7', '--to-version', '3'],
      "option '--to-build <build>' cannot be used with option '--to-version <version>'",
    ],
    [['status', 'extra'], 'too many arguments'],
    [['statuss'], "unknown command 'statuss'"],
    [['status', '--dry-run'], "unknown option '--dry-run'"],
  ])('exits 2 and names the problem: ferry %j', async (argv, message) => {
    const harness = createHarness();
    const run = await harness.run(...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('exits 2 with the command list when no command is given', async () => {
    const run = await createHarness().run();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Commands:');
  });

  it('documents every command and the exit codes in --help', async () => {
    const run = await createHarness().run('--help');
    expect(run.code).toBe(0);
    for (const command of ['upload', 'deploy', 'status', 'history', 'promote', 'rollback', 'config']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(run.stdout).toContain('Exit codes:');
    expect(run.stdout).toMatch(/^ {2}4 {2}access denied/m);
    expect(run.stdout).toMatch(/^ {2}5 {2}conflict, throttling or timeout/m);
  });

  it('lists --json, --config, --region and --dry-run in a changing command’s help', async () => {
    const run = await createHarness().run('rollback', '--help');
    expect(run.code).toBe(0);
    for (const option of ['--json', '--config <file>', '--region <region>', '--dry-run', '--to-build <build>']) {
      expect(run.stdout).toContain(option);
    }
  });

  it('prints the version', async () => {
    const run = await createHarness().run('--version');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 2 naming the way to configure ferry when no configuration is found', async () => {
    const harness = createHarness();
    harness.env = {};
    const run = await harness.run('status');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('No configuration found: pass --config <file>');
    expect(run.stderr).not.toContain('    at ');
  });

  it('shows the stack trace only with FERRY_DEBUG=1', async () => {
    const harness = createHarness();
    harness.env = { FERRY_DEBUG: '1' };
    const run = await harness.run('status');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('    at ');
  });
});
