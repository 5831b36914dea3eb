import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { InternalError } from '../../../src/core/errors.js';
import type { LedgerEntry } from '../../../src/core/ledger-model.js';
import { BuildStatus, deployBuild } from '../../../src/engine/deploy-build.js';
import { acquireLease } from '../../../src/engine/lease.js';
import { readCurrent, recordAttempt } from '../../../src/engine/ledger.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
};
const config = parseConfig(rawConfig);
const app = config.apps['orders-api'];
const dev = app?.targets.dev?.[0];
if (!app || !dev) throw new Error('config');
const CURRENT_KEY = 'ledger/orders-api/dev/current.json';
const CORRUPT = '{"schema":1,"app":"orders-api","build":"4';

let world: UnitWorld;
let log: ReturnType<typeof recordLog>;

beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
  log = recordLog();
});
afterEach(() => world.stop());

/** Lambda calls made into the target's account. */
const lambdaCalls = () =>
  world.world.sandbox.requests({ service: 'lambda', accountId: dev.accountId }).map((r) => r.operation);

/** Runs `hook` with the key of every write to ferry's bucket, before S3 sees it, until removed. */
function beforeEachPut(hook: (key: string) => void | Promise<void>): () => void {
  return world.world.sandbox.intercept((request) =>
    request.operation === 'PutObject' ? hook(request.path.slice(BUCKET.length + 2)) : undefined,
  );
}

async function upload(build: string, extra: { leaseWaitMs?: number } = {}) {
  const zip = await makeZip([{ name: 'index.mjs', content: `export const build = '${build}';` }]);
  const { key, versionId } = await world.putArtifact('orders-api', build, zip);
  return deployBuild(world.runtime, log, {
    app: app as NonNullable<typeof app>,
    build,
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: ['dev'],
    trigger: 'upload',
    ...extra,
  });
}

const entries = () => world.docs<LedgerEntry>('ledger/orders-api/dev/entries/');
const currentText = () => world.world.sandbox.s3.describeObject(BUCKET, CURRENT_KEY)?.body.toString('utf8');

describe('the S3 adapter reads a corrupt JSON document', () => {
  it('as a typed S3_DOCUMENT_CORRUPT error naming the key and ETag, never a bare SyntaxError', async () => {
    await world.putObject(CURRENT_KEY, CORRUPT);
    const etag = world.etagOf(CURRENT_KEY);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const read = world.runtime.store.getJson(BUCKET, CURRENT_KEY);

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
    await world.putObject(CURRENT_KEY, CORRUPT);
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
    expect(currentText()).toBe(CORRUPT);
  });

  it('fails the stage before any deploy, with a failed ledger entry and an error line', async () => {
    await world.putObject(CURRENT_KEY, CORRUPT);

    const result = await upload('5');

    expect(result.status).toBe(BuildStatus.Failed);
    expect(result.error).toMatchObject({ code: 'LEDGER_CURRENT_CORRUPT' });
    expect(result.stages[0]).toMatchObject({ stage: 'dev', status: 'failed', outcomes: [] });
    expect(lambdaCalls()).not.toContain('UpdateFunctionCode');
    expect(currentText()).toBe(CORRUPT);
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
    expect(lambdaCalls()).toEqual([]);
  });

  it('when the ledger write fails too, the failure is logged and the original error still surfaces', async () => {
    await acquireLease(world.runtime, { app: 'orders-api', stage: 'dev', build: '4', holder: 'other' });
    beforeEachPut((key) => {
      if (key.includes('/entries/')) throw new Error('S3 is down');
    });

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
    // S3's ETag is the MD5 of the bytes, so each rewrite differs by a byte (trailing whitespace).
    let writing = false;
    let rewrites = 0;
    beforeEachPut(async (key) => {
      if (key !== CURRENT_KEY || writing) return;
      writing = true;
      const text = currentText() ?? JSON.stringify({ schema: 1, build: '1' });
      await world.putObject(CURRENT_KEY, `${text.trimEnd()}${' '.repeat(++rewrites)}`);
      writing = false;
    });

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
