import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../../src/aws/s3.js';
import { parseConfig } from '../../../src/core/config.js';
import { InternalError } from '../../../src/core/errors.js';
import type { LedgerEntry } from '../../../src/core/ledger-model.js';
import { BuildStatus, deployBuild } from '../../../src/engine/deploy-build.js';
import { acquireLease } from '../../../src/engine/lease.js';
import { readCurrent, recordAttempt } from '../../../src/engine/ledger.js';
import { createMemoryRuntime, type MemoryRuntime } from '../../support/memory-runtime.js';
import { MemoryS3 } from '../../support/memory-s3.js';
import { recordLog } from '../../support/record-log.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const config = parseConfig({
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  stages: [{ name: 'dev' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
});
const app = config.apps['orders-api'];
const dev = app?.targets.dev?.[0];
if (!app || !dev) throw new Error('config');
const CURRENT_KEY = 'ledger/orders-api/dev/current.json';
const CORRUPT = '{"schema":1,"app":"orders-api","build":"4';

let world: MemoryRuntime;
let log: ReturnType<typeof recordLog>;

beforeEach(() => {
  world = createMemoryRuntime(config);
  log = recordLog();
});

async function upload(build: string, extra: { leaseWaitMs?: number } = {}) {
  const zip = await makeZip([{ name: 'index.mjs', content: `export const build = '${build}';` }]);
  const key = `artifacts/orders-api/${build}.zip`;
  const versionId = world.s3.addArtifact(BUCKET, key, zip);
  return deployBuild(world.runtime, log, {
    app: app as NonNullable<typeof app>,
    build,
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: ['dev'],
    trigger: 'upload',
    ...extra,
  });
}

const entries = () => world.s3.docs<LedgerEntry>(BUCKET, 'ledger/orders-api/dev/entries/');

describe('the S3 adapter reads a corrupt JSON document', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => {
    s3.reset();
  });

  it('as a typed S3_DOCUMENT_CORRUPT error naming the key and ETag, never a bare SyntaxError', async () => {
    const memory = new MemoryS3();
    memory.attach(s3, () => {
      throw new Error('no artifact');
    });
    memory.putDoc(BUCKET, CURRENT_KEY, CORRUPT);
    const etag = memory.getDoc(BUCKET, CURRENT_KEY)?.etag;
    const store = createObjectStore(new S3Client({ region: 'eu-west-1' }));

    const read = store.getJson(BUCKET, CURRENT_KEY);

    await expect(read).rejects.toBeInstanceOf(InternalError);
    await expect(read).rejects.toMatchObject({
      code: 'S3_DOCUMENT_CORRUPT',
      transient: false,
      context: { bucket: BUCKET, key: CURRENT_KEY, etag },
    });
  });
});

describe('a corrupt current.json', () => {
  it('is named with what to do, and never silently replaced', async () => {
    world.s3.putDoc(BUCKET, CURRENT_KEY, CORRUPT);
    const read = readCurrent(world.runtime, 'orders-api', 'dev');
    await expect(read).rejects.toMatchObject({ code: 'LEDGER_CURRENT_CORRUPT', transient: false });
    await expect(read).rejects.toThrowError(`s3://${BUCKET}/${CURRENT_KEY}`);
    await expect(read).rejects.toThrowError(/Restore a previous version .* or delete it/);

    const entry: LedgerEntry = {
      schema: 1,
      id: 'id-5',
      app: 'orders-api',
      stage: 'dev',
      build: '5',
      codeSha256: 'sha-5',
      targets: [],
      trigger: 'upload',
      caller: 'arn',
      startedAt: '2026-11-23T08:00:00.000Z',
      endedAt: '2026-11-23T08:00:00.000Z',
      outcome: 'succeeded',
    };
    await expect(recordAttempt(world.runtime, entry)).rejects.toMatchObject({ code: 'LEDGER_CURRENT_CORRUPT' });
    expect(world.s3.getDoc(BUCKET, CURRENT_KEY)?.body).toBe(CORRUPT);
  });

  it('fails the stage before any deploy, with a failed ledger entry and an error line', async () => {
    world.s3.putDoc(BUCKET, CURRENT_KEY, CORRUPT);

    const result = await upload('5');

    expect(result.status).toBe(BuildStatus.Failed);
    expect(result.error).toMatchObject({ code: 'LEDGER_CURRENT_CORRUPT' });
    expect(result.stages[0]).toMatchObject({ stage: 'dev', status: 'failed', outcomes: [] });
    expect(world.lambda.fn(dev).calls).not.toContain('UpdateFunctionCode');
    expect(world.s3.getDoc(BUCKET, CURRENT_KEY)?.body).toBe(CORRUPT);
    expect(entries()).toMatchObject([
      { build: '5', outcome: 'failed', code: 'LEDGER_CURRENT_CORRUPT', reason: expect.stringContaining(CURRENT_KEY) },
    ]);
    expect(entries()[0]?.id).toBe(result.stages[0]?.entryId);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'stage release failed',
        attributes: expect.objectContaining({ stage: 'dev', errorCode: 'LEDGER_CURRENT_CORRUPT' }),
      }),
    );
  });
});

describe('a stage that cannot be released is still in the ledger', () => {
  it('a lease timeout records a failed entry with the reason, then rethrows so Lambda retries', async () => {
    await acquireLease(world.runtime, { app: 'orders-api', stage: 'dev', build: '4', holder: 'other' });

    await expect(upload('5', { leaseWaitMs: 1 })).rejects.toMatchObject({ code: 'LEASE_TIMEOUT', transient: true });

    expect(entries()).toMatchObject([
      { build: '5', outcome: 'failed', code: 'LEASE_TIMEOUT', reason: expect.stringContaining('build 4'), targets: [] },
    ]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'stage release failed' }));
    expect(world.lambda.fn(dev).calls).toEqual([]);
  });

  it('when the ledger write fails too, the failure is logged and the original error still surfaces', async () => {
    await acquireLease(world.runtime, { app: 'orders-api', stage: 'dev', build: '4', holder: 'other' });
    world.s3.beforePut = (key) => {
      if (key.includes('/entries/')) throw new Error('S3 is down');
    };

    await expect(upload('5', { leaseWaitMs: 1 })).rejects.toMatchObject({ code: 'LEASE_TIMEOUT' });

    expect(entries()).toEqual([]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'could not record the attempt in the ledger',
        attributes: expect.objectContaining({ stage: 'dev', reason: expect.stringContaining('S3 is down') }),
      }),
    );
  });

  it('a contended current state rethrows without a duplicate entry: the attempt is already recorded', async () => {
    // Every write of current.json finds it changed: someone else always got there first.
    world.s3.beforePut = (key) => {
      if (key !== CURRENT_KEY) return;
      const doc = world.s3.getDoc(BUCKET, CURRENT_KEY);
      world.s3.putDoc(BUCKET, CURRENT_KEY, doc?.body ?? JSON.stringify({ schema: 1, build: '1' }));
    };

    await expect(upload('5')).rejects.toMatchObject({ code: 'LEDGER_CURRENT_CONTENDED', transient: true });

    const recorded = entries();
    expect(recorded).toMatchObject([{ build: '5', outcome: 'succeeded' }]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: 'stage release failed',
        attributes: expect.objectContaining({ errorCode: 'LEDGER_CURRENT_CONTENDED', entryId: recorded[0]?.id }),
      }),
    );
  });
});
