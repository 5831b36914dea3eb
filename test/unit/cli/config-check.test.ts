import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness } from './cli-harness.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-config-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const YAML = `# like variables.dev.yml: the ferry: section is the configuration
accounts:
  dev: &dev '222222222222'
ferry:
  artifactBucket: ferry-artifacts-111111111111
  region: eu-west-1
  externalId: ferry-not-printed
  stages:
    - name: dev
    - name: prod
  apps:
    orders-api:
      targets:
        dev:
          - { account: *dev, function: orders-api }
`;

describe('ferry config check', () => {
  it('reads a YAML file named by --config and prints the resolved targets, never the ExternalId', async () => {
    await writeFile(join(dir, 'ferry.yml'), YAML);
    const harness = createHarness({ cwd: dir });
    harness.env = {};
    const run = await harness.run('config', 'check', '--config', 'ferry.yml');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`configuration ${join(dir, 'ferry.yml')}: valid`);
    expect(run.stdout).toMatch(
      /^orders-api +dev +222222222222 +eu-west-1 +orders-api +live +arn:aws:iam::222222222222:role\/ferry-deploy +set$/m,
    );
    expect(run.stdout).not.toContain('ferry-not-printed');
  });

  it('falls back to ./variables.dev.yml in the working directory', async () => {
    await writeFile(join(dir, 'variables.dev.yml'), YAML);
    const harness = createHarness({ cwd: dir });
    harness.env = {};
    const run = await harness.run('config', 'check', '--json');
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({
      valid: true,
      source: join(dir, 'variables.dev.yml'),
      stages: [
        { name: 'dev', acceptsUploads: true },
        { name: 'prod', acceptsUploads: false },
      ],
      apps: [
        {
          name: 'orders-api',
          targets: [{ stage: 'dev', id: '222222222222/eu-west-1/orders-api:live', externalId: true }],
        },
      ],
    });
  });

  it('prefers --config over FERRY_CONFIG', async () => {
    await writeFile(join(dir, 'ferry.yml'), YAML);
    const harness = createHarness({ cwd: dir });
    const run = await harness.run('config', 'check', '--config', 'ferry.yml', '--json');
    expect(run.json()).toMatchObject({ source: join(dir, 'ferry.yml') });
  });

  it('exits 2 naming every bad field of an invalid configuration', async () => {
    const harness = createHarness({
      config: { artifactBucket: 'b', region: 'eu-west-1', stages: [{ name: 'dev' }], apps: {}, tpyo: true },
    });
    const run = await harness.run('config', 'check', '--json');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown key 'tpyo'");
    expect(run.stderr).toContain('artifactBucket');
    expect(run.json()).toMatchObject({
      status: 'error',
      exitCode: 2,
      error: { code: 'CONFIG_INVALID', kind: 'configuration' },
    });
  });

  it.each([
    ['on the externalId line', 'ferry:\n  region: eu-west-1\n  externalId: "s3cr3t-ext-id\n  stages: []\n'],
    ['on the line after it', 'ferry:\n  externalId: s3cr3t-ext-id\n  region: [eu-west-1\n  stages: x: y\n'],
    ['on the line before it', 'ferry:\n  region: eu-west-1: x\n  externalId: s3cr3t-ext-id\n'],
    ['in a JSON file', '{"ferry": {"externalId": "s3cr3t-ext-id" "region": "eu-west-1"}}'],
  ])('reports a syntax error %s by line and column, never echoing the text', async (_, text) => {
    await writeFile(join(dir, 'ferry.yml'), text);
    const run = await createHarness({ cwd: dir }).run('config', 'check', '--config', 'ferry.yml', '--json');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/(YAML|JSON) syntax error .*at line \d+, column \d+/);
    expect(run.stderr).toContain('CONFIG_UNPARSABLE');
    expect(run.stdout + run.stderr).not.toContain('s3cr3t');
  });

  it('exits 2 when --config names a file that does not exist', async () => {
    const run = await createHarness({ cwd: dir }).run('config', 'check', '--config', 'missing.yml');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--config names ${join(dir, 'missing.yml')}, which cannot be read.`);
  });

  it('applies --region to ferry’s own clients', async () => {
    const run = await createHarness().run('config', 'check', '--region', 'us-east-2', '--json');
    expect(run.json()).toMatchObject({ region: 'us-east-2' });
  });
});
