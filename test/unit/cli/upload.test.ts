import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessError } from '../../../src/core/errors.js';
import { makeZip } from '../../support/zips.js';
import { createHarness } from './cli-harness.js';

let dir: string;
let zipPath: string;
let zip: Buffer;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-upload-'));
  zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
  zipPath = join(dir, 'function.zip');
  await writeFile(zipPath, zip);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('ferry upload', () => {
  it('streams the zip to <prefix><app>/<build>.zip with its digest and sha256/commit metadata', async () => {
    const harness = createHarness();
    const run = await harness.run('upload', zipPath, '--app', 'orders-api', '--build', '42', '--commit', 'abc123');
    expect(run.code).toBe(0);
    expect(harness.puts).toHaveLength(1);
    const [put] = harness.puts;
    expect(put).toMatchObject({
      bucket: 'ferry-artifacts-111111111111',
      key: 'artifacts/orders-api/42.zip',
      digest: { sha256: sha(zip), sizeBytes: zip.length, objectChecksumSha256: sha(zip) },
      metadata: { sha256: sha(zip), commit: 'abc123' },
      createOnly: true,
    });
    expect(Buffer.from(put?.body ?? []).equals(zip)).toBe(true);
    expect(run.stdout).toContain('uploaded orders-api build 42');
    expect(run.stdout).toContain('deploys   dev');
  });

  it('names the build after the UTC time by default, so builds order as time does', async () => {
    const harness = createHarness({ now: new Date('2026-03-04T05:06:07.890Z') });
    const run = await harness.run('upload', zipPath, '--app', 'orders-api');
    expect(run.code).toBe(0);
    expect(harness.puts[0]?.key).toBe('artifacts/orders-api/20260304T050607Z.zip');
  });

  it('prints one JSON document with --json', async () => {
    const harness = createHarness();
    const run = await harness.run('upload', zipPath, '--app', 'orders-api', '--build', '42', '--json');
    expect(run.code).toBe(0);
    expect(run.json()).toEqual({
      app: 'orders-api',
      build: '42',
      bucket: 'ferry-artifacts-111111111111',
      key: 'artifacts/orders-api/42.zip',
      sha256: sha(zip),
      objectChecksumSha256: sha(zip),
      sizeBytes: zip.length,
      metadata: { sha256: sha(zip) },
      deploysTo: ['dev'],
      dryRun: false,
      versionId: 'v-uploaded-1',
    });
  });

  it('prints the plan and uploads nothing with --dry-run', async () => {
    const harness = createHarness();
    const run = await harness.run('upload', zipPath, '--app', 'orders-api', '--build', '42', '--dry-run');
    expect(run.code).toBe(0);
    expect(harness.puts).toEqual([]);
    expect(run.stdout).toContain('would upload orders-api build 42');
    expect(run.stdout).toContain('s3://ferry-artifacts-111111111111/artifacts/orders-api/42.zip');
  });

  it('rejects a file that is not a zip (exit 3) and uploads nothing', async () => {
    await writeFile(zipPath, 'not a zip at all');
    const harness = createHarness();
    const run = await harness.run('upload', zipPath, '--app', 'orders-api', '--json');
    expect(run.code).toBe(3);
    expect(harness.puts).toEqual([]);
    expect(run.stderr).toMatch(/^ferry: .+\[ARTIFACT_/m);
    expect(run.json()).toMatchObject({ status: 'error', exitCode: 3, error: { kind: 'artifact' } });
  });

  it('rejects a missing file (exit 3), naming the path', async () => {
    const run = await createHarness().run('upload', join(dir, 'nope.zip'), '--app', 'orders-api');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`Cannot read ${join(dir, 'nope.zip')} (ENOENT)`);
  });

  it('rejects an unknown app (exit 3), listing the configured ones', async () => {
    const run = await createHarness().run('upload', zipPath, '--app', 'nope');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("No app 'nope' is configured. Known apps: orders-api.");
  });

  it('writes nothing when the build already holds these bytes, and refuses other bytes before sending any (exit 3)', async () => {
    const same = createHarness();
    same.existing = { checksumSha256: sha(zip), versionId: 'v-earlier' };
    const run = await same.run('upload', zipPath, '--app', 'orders-api', '--build', '42', '--json');
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ alreadyUploaded: true, versionId: 'v-earlier' });
    expect(same.puts).toEqual([]);

    const other = createHarness();
    other.existing = { checksumSha256: sha(Buffer.from('other bytes')) };
    const refused = await other.run('upload', zipPath, '--app', 'orders-api', '--build', '42');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('[BUILD_EXISTS]');
    expect(other.puts).toEqual([]);
  });

  it('exits 4 when the bucket refuses the upload', async () => {
    const harness = createHarness();
    harness.putError = new AccessError('S3_ACCESS_DENIED', 'ferry may not write s3://b/k: Access Denied.');
    const run = await harness.run('upload', zipPath, '--app', 'orders-api');
    expect(run.code).toBe(4);
    expect(run.stderr).toBe('ferry: ferry may not write s3://b/k: Access Denied. [S3_ACCESS_DENIED]\n');
  });
});
