import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateAliasCommand } from '@aws-sdk/client-lambda';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { createArtifactUploadedHandler, DeploymentsFailedError } from '../../../src/handlers/artifact-uploaded.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld, type UnitWorldOptions } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const fixture = JSON.parse(readFileSync('test/fixtures/events/s3-object-created.json', 'utf8')) as S3Event;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

const BUCKET = 'ferry-artifacts-111111111111';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } },
    'billing-api': { targets: { prod: [{ account: '444444444444', function: 'billing' }] } },
  },
};
const DEV = { accountId: '222222222222', region: 'eu-west-1', functionName: 'orders-api', alias: 'live' };
const DEPLOY_SESSION = (build: string) =>
  `arn:aws:sts::222222222222:assumed-role/ferry-deploy/ferry-orders-api-${build}`;

let world: UnitWorld;
let log: ReturnType<typeof recordLog>;
/** Keys of objects read from ferry's bucket (GetObject), in order. */
let reads: string[];

async function startWorld(options: UnitWorldOptions = {}): Promise<void> {
  world = await startUnitWorld(rawConfig, options);
  reads = [];
  world.world.sandbox.intercept((request) => {
    if (request.operation === 'GetObject') reads.push(request.path.slice(BUCKET.length + 2));
  });
}

/** The S3 event for a key, as the bucket notification sends it (key URL-encoded by the caller). */
function eventFor(key: string, object: { size?: number; versionId?: string } = {}): S3Event {
  const record = structuredClone(fixture.Records[0]);
  if (!record) throw new Error('fixture has no record');
  record.s3.object.key = key;
  record.s3.object.size = object.size ?? 1024;
  if (object.versionId) record.s3.object.versionId = object.versionId;
  else delete record.s3.object.versionId;
  return { Records: [record] };
}

/** Uploads bytes under an app's build key as CI does, and returns the event S3 would send for it. */
async function uploaded(
  build: string,
  zip: Buffer,
  options: { app?: string; metadata?: Record<string, string> } = {},
): Promise<S3Event> {
  const app = options.app ?? 'orders-api';
  const { versionId } = await world.world.upload(app, build, zip, options.metadata);
  return eventFor(`artifacts/${app}/${build}.zip`, { size: zip.length, ...(versionId ? { versionId } : {}) });
}

function handlerUnderTest() {
  return createArtifactUploadedHandler(() => world.runtime, log);
}

const lambdaRequests = (operation: string) =>
  world.world.sandbox.requests({ service: 'lambda', accountId: '222222222222', operation });
const count = (service: string, operation: string) => world.world.sandbox.countRequests({ service, operation });
const fault = (service: string, operation: string, code: string, status: number, times: number) =>
  world.world.sandbox.faults.add({ service, operation, error: { code, status }, times });

beforeEach(async () => {
  await startWorld();
  log = recordLog();
});

afterEach(async () => {
  // Whatever happened, no credential reached a log line.
  const logged = JSON.stringify(log.lines);
  for (const secret of [world.world.env.AWS_SECRET_ACCESS_KEY, world.world.env.AWS_SESSION_TOKEN]) {
    expect(logged).not.toContain(secret);
  }
  expect(logged).not.toMatch(/"ASIA[A-Z0-9]{12,}"/);
  await world.stop();
});

describe('artifact-uploaded handler', () => {
  it('first deploy: assumes the role with the ExternalId, updates, publishes and creates the alias', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
    const event = await uploaded('2026.11.22-7', zip);
    const summary = await handlerUnderTest()(event);

    expect(summary.results).toEqual([
      { app: 'orders-api', build: '2026.11.22-7', status: 'succeeded', key: 'artifacts/orders-api/2026.11.22-7.zip' },
    ]);
    expect(reads).toContain('artifacts/orders-api/2026.11.22-7.zip');
    // The deploy role trusts ferry only with the ExternalId (the real template): the session exists, named after the build.
    expect(world.world.sandbox.requests({ service: 'sts', operation: 'AssumeRole' })).toEqual([
      expect.objectContaining({ status: 200, accountId: '111111111111' }),
    ]);
    expect(lambdaRequests('PublishVersion')).toEqual([
      expect.objectContaining({ status: 201, callerArn: DEPLOY_SESSION('2026.11.22-7') }),
    ]);
    const fn = world.fn(DEV);
    expect(fn.versions).toEqual([
      { version: '1', codeSha256: sha256(zip), description: `ferry: orders-api 2026.11.22-7 sha256:${sha256(zip)}` },
    ]);
    expect(world.aliasVersion(DEV)).toBe('1');
    expect(fn.latest.codeSha256).toBe(sha256(zip));
    const line = log.lines.find((l) => l.message === 'target deployed');
    expect(line?.attributes).toMatchObject({
      app: 'orders-api',
      build: '2026.11.22-7',
      stage: 'dev',
      account: '222222222222',
      region: 'eu-west-1',
      function: 'orders-api',
      alias: 'live',
      version: '1',
      codeSha256: sha256(zip),
      outcome: 'deployed',
    });
    expect(line?.attributes.durationMs).toEqual(expect.any(Number));
  });

  it('publishes only after the update settled, with the RevisionId read then', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
    await handlerUnderTest()(await uploaded('8', zip));
    // The update took a (virtual) second: ferry polled until Successful; the RevisionId changed when it
    // settled, so publishing with the one UpdateFunctionCode returned would have failed with 412.
    expect(lambdaRequests('GetFunctionConfiguration').length).toBeGreaterThan(1);
    expect(lambdaRequests('PublishVersion').map((r) => r.status)).toEqual([201]);
  });

  it('unchanged re-delivery: no new code, no new version, the alias stays', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'same' }]);
    const event = await uploaded('9', zip);
    const handler = handlerUnderTest();
    await handler(event);
    const writes = ['UpdateFunctionCode', 'PublishVersion', 'UpdateAlias', 'CreateAlias'].map(
      (op) => lambdaRequests(op).length,
    );
    const again = await handler(event);
    expect(again.results[0]?.status).toBe('succeeded');
    expect(
      ['UpdateFunctionCode', 'PublishVersion', 'UpdateAlias', 'CreateAlias'].map((op) => lambdaRequests(op).length),
    ).toEqual(writes);
    expect(world.fn(DEV).versions).toHaveLength(1);
    expect(log.lines.some((l) => l.message === 'target unchanged')).toBe(true);
  });

  it('retries an update that conflicts with one still in progress', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'conflict' }]);
    const event = await uploaded('10', zip);
    fault('lambda', 'UpdateFunctionCode', 'ResourceConflictException', 409, 2);
    await handlerUnderTest()(event);
    expect(lambdaRequests('UpdateFunctionCode').map((r) => r.status)).toEqual([409, 409, 200]);
    expect(world.aliasVersion(DEV)).toBe('1');
    expect(world.fn(DEV).latest.codeSha256).toBe(sha256(zip));
  });

  it('absorbs throttling with backoff', async () => {
    const event = await uploaded('11', await makeZip([{ name: 'index.mjs', content: 'throttle' }]));
    fault('lambda', 'PublishVersion', 'TooManyRequestsException', 429, 3);
    const summary = await handlerUnderTest()(event);
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambdaRequests('PublishVersion').map((r) => r.status)).toEqual([429, 429, 429, 201]);
  });

  it('absorbs throttling of the first CreateAlias with backoff', async () => {
    const event = await uploaded('16', await makeZip([{ name: 'index.mjs', content: 'throttled-create' }]));
    fault('lambda', 'CreateAlias', 'TooManyRequestsException', 429, 2);
    const summary = await handlerUnderTest()(event);
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambdaRequests('CreateAlias').map((r) => r.status)).toEqual([429, 429, 201]);
    expect(world.aliasVersion(DEV)).toBe('1');
    expect(world.fn(DEV).versions).toHaveLength(1);
  });

  it('an alias created concurrently is not created again: ferry re-plans and moves it', async () => {
    const event = await uploaded('17', await makeZip([{ name: 'index.mjs', content: 'raced-create' }]));
    // Another delivery wins the race between ferry's GetAlias and its CreateAlias.
    const stop = world.world.sandbox.intercept(async (request) => {
      if (request.operation !== 'CreateAlias') return;
      stop();
      await world
        .lambdaAs('222222222222')
        .send(new CreateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '$LATEST' }));
    });
    const summary = await handlerUnderTest()(event);
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambdaRequests('CreateAlias').map((r) => [r.status, r.callerArn])).toEqual([
      [201, 'arn:aws:iam::222222222222:root'],
      [409, DEPLOY_SESSION('17')],
    ]);
    expect(lambdaRequests('UpdateAlias').map((r) => r.status)).toEqual([200]);
    expect(world.aliasVersion(DEV)).toBe('1');
    expect(world.fn(DEV).versions).toHaveLength(1);
  });

  it('fails the invocation when throttling outlasts the retries, so Lambda retries it', async () => {
    const event = await uploaded('12', await makeZip([{ name: 'index.mjs', content: 'throttled-forever' }]));
    fault('lambda', 'PublishVersion', 'TooManyRequestsException', 429, 100);
    await expect(handlerUnderTest()(event)).rejects.toBeInstanceOf(DeploymentsFailedError);
    expect(world.aliasVersion(DEV)).toBeUndefined();
    expect(log.lines.find((l) => l.message === 'target deployment failed')?.attributes.errorCode).toBe(
      'LAMBDA_THROTTLED',
    );
  });

  it('re-plans when the function changed between reading and writing (RevisionId)', async () => {
    const event = await uploaded('13', await makeZip([{ name: 'index.mjs', content: 'precondition' }]));
    fault('lambda', 'UpdateFunctionCode', 'PreconditionFailedException', 412, 1);
    const summary = await handlerUnderTest()(event);
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambdaRequests('UpdateFunctionCode').map((r) => r.status)).toEqual([412, 200]);
    expect(world.fn(DEV).versions).toHaveLength(1);
  });

  it('an update that ends Failed carries Lambda reason and leaves the alias alone', async () => {
    await world.stop();
    await startWorld({
      seedAliases: true,
      lambda: { failNextUpdates: 1, failureReason: 'EniLimitExceeded: too many ENIs' },
    });
    const event = await uploaded('14', await makeZip([{ name: 'index.mjs', content: 'fails' }]));
    const run = handlerUnderTest()(event);
    await expect(run).rejects.toThrowError(/LAMBDA_UPDATE_FAILED.*EniLimitExceeded/);
    expect(lambdaRequests('PublishVersion')).toEqual([]);
    expect(lambdaRequests('UpdateAlias')).toEqual([]);
    expect(world.aliasVersion(DEV)).toBe('1');
    expect(world.fn(DEV).versions).toHaveLength(1);
  });

  it('fails clearly when the deploy role cannot be assumed', async () => {
    const event = await uploaded('15', await makeZip([{ name: 'index.mjs', content: 'x' }]));
    fault('sts', 'AssumeRole', 'AccessDenied', 403, 100);
    await expect(handlerUnderTest()(event)).rejects.toThrowError(
      /could not assume arn:aws:iam::222222222222:role\/ferry-deploy in account 222222222222/,
    );
    expect(lambdaRequests('UpdateFunctionCode')).toEqual([]);
  });

  describe('rejects bad input, deploys nowhere and does not ask for a retry', () => {
    const expectRejected = async (event: S3Event, code: RegExp) => {
      const summary = await handlerUnderTest()(event);
      expect(summary.results[0]?.status).toBe('rejected');
      expect(summary.results[0]?.reason).toMatch(code);
      expect(lambdaRequests('UpdateFunctionCode')).toEqual([]);
      expect(lambdaRequests('CreateAlias')).toEqual([]);
      const warning = log.lines.find((l) => l.level === 'warn');
      expect(warning?.attributes.reason).toMatch(code);
    };

    it('records every rejected input in the ledger with its reason', async () => {
      await handlerUnderTest()(eventFor('artifacts/payments/1.zip'));
      await handlerUnderTest()(eventFor('artifacts/orders-api/nested/1.zip'));
      await handlerUnderTest()(await uploaded('25', Buffer.from('not a zip')));
      const rejected = world.docs<LedgerEntry>('ledger/_rejected/');
      expect(rejected.map((e) => e.code).sort()).toEqual(['KEY_MALFORMED', 'UNKNOWN_APP']);
      for (const e of rejected) {
        expect(e, e.code).toMatchObject({
          outcome: 'rejected',
          reason: expect.any(String),
          source: { key: expect.any(String) },
        });
      }
      const [bad] = world.docs<LedgerEntry>('ledger/orders-api/dev/entries/');
      expect(bad).toMatchObject({
        app: 'orders-api',
        stage: 'dev',
        build: '25',
        outcome: 'rejected',
        code: 'ARTIFACT_CORRUPT',
      });
    });

    it('a checksum mismatch with the declared metadata checksum', async () => {
      const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
      await expectRejected(
        await uploaded('21', zip, { metadata: { sha256: sha256(Buffer.from('other')) } }),
        /ARTIFACT_CHECKSUM_MISMATCH/,
      );
    });

    it('an oversize artifact, before downloading it', async () => {
      await expectRejected(eventFor('artifacts/orders-api/22.zip', { size: 300 * 1024 * 1024 }), /ARTIFACT_TOO_LARGE/);
      expect(reads).not.toContain('artifacts/orders-api/22.zip');
    });

    it('a corrupt zip', async () => {
      await expectRejected(
        await uploaded('23', Buffer.from('this is not a zip at all, just text')),
        /ARTIFACT_CORRUPT/,
      );
    });

    it('a zip with a .. entry', async () => {
      const { patchZipEntry } = await import('../../support/zips.js');
      const zip = patchZipEntry(await makeZip([{ name: 'aa/evil.js', content: 'x' }]), 0, { name: '../evil.js' });
      await expectRejected(await uploaded('24', zip), /ARTIFACT_UNSAFE_PATH/);
    });

    it('an unknown app', async () => {
      await expectRejected(eventFor('artifacts/payments/1.zip'), /UNKNOWN_APP/);
      expect(reads).toEqual([]);
    });

    it('a malformed key', async () => {
      await expectRejected(eventFor('artifacts/orders-api/nested/1.zip'), /KEY_MALFORMED/);
    });

    it('an app whose stages do not accept uploads (production is reached only by promotion)', async () => {
      await expectRejected(eventFor('artifacts/billing-api/1.zip'), /NO_UPLOAD_STAGE/);
      expect(count('sts', 'AssumeRole')).toBe(0);
    });

    it('an encoded key that decodes to no valid build', async () => {
      await expectRejected(eventFor('artifacts/orders-api/2026.11.22%2B1.zip'), /KEY_MALFORMED.*2026\.11\.22\+1/);
    });
  });

  it("records the deployment in the ledger and makes it the stage's current build", async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'ledger' }]);
    const event = await uploaded('30', zip);
    await handlerUnderTest()(event);
    const [entry] = world.docs<LedgerEntry>('ledger/orders-api/dev/entries/');
    expect(entry).toMatchObject({
      app: 'orders-api',
      stage: 'dev',
      build: '30',
      codeSha256: sha256(zip),
      trigger: 'upload',
      // The uploader the S3 event names, not ferry's own role.
      caller: 's3-uploader:AWS:AROAEXAMPLEID:ci-upload',
      outcome: 'succeeded',
      source: { bucket: BUCKET, key: 'artifacts/orders-api/30.zip', versionId: event.Records[0]?.s3.object.versionId },
      targets: [{ targetId: '222222222222/eu-west-1/orders-api:live', version: '1', outcome: 'deployed' }],
    });
    expect(world.readJson<CurrentState>('ledger/orders-api/dev/current.json')).toMatchObject({
      build: '30',
      targets: { '222222222222/eu-west-1/orders-api:live': '1' },
    });
    expect(world.readJson<{ released: boolean }>('leases/orders-api/dev.json')?.released).toBe(true);
  });

  it('names the uploader of a rejected upload in the ledger, and keeps an odd principal log-safe', async () => {
    const event = eventFor('artifacts/payments/1.zip');
    const malformed = eventFor('artifacts/orders-api/nested/1.zip');
    const record = malformed.Records[0];
    if (!record) throw new Error('no record');
    record.userIdentity.principalId = 'AWS:AROAEXAMPLEID:ci\nforged line {"level":"error"}';
    await handlerUnderTest()({ Records: [...event.Records, record] });

    const rejected = world.docs<LedgerEntry>('ledger/_rejected/');
    expect(rejected.map((e) => [e.code, e.caller]).sort()).toEqual([
      ['KEY_MALFORMED', 's3-uploader:AWS:AROAEXAMPLEID:ci-forged-line---level-:-error--'],
      ['UNKNOWN_APP', 's3-uploader:AWS:AROAEXAMPLEID:ci-upload'],
    ]);
    expect(count('sts', 'GetCallerIdentity')).toBe(0);
  });

  it('a rejected artifact of a known app names the uploader too', async () => {
    await handlerUnderTest()(await uploaded('26', Buffer.from('not a zip')));
    const [bad] = world.docs<LedgerEntry>('ledger/orders-api/dev/entries/');
    expect(bad).toMatchObject({ outcome: 'rejected', caller: 's3-uploader:AWS:AROAEXAMPLEID:ci-upload' });
  });

  describe('a malformed event is rejected with a log line, not a TypeError Lambda would retry', () => {
    it.each([
      ['a string', 'not an event'],
      ['null', null],
      ['an array', [{ s3: {} }]],
      ['an object without Records', { detail: {} }],
    ])('%s', async (_, event) => {
      const summary = await handlerUnderTest()(event as never);
      expect(summary).toEqual({ results: [] });
      expect(log.lines).toContainEqual(
        expect.objectContaining({ level: 'error', message: expect.stringMatching(/not an S3 notification/) }),
      );
      expect(count('lambda', 'GetFunctionConfiguration')).toBe(0);
      expect(count('sts', 'AssumeRole')).toBe(0);
    });

    it('a record without s3, bucket or key: rejected by name, the other records still run', async () => {
      const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
      const good = await uploaded('1', zip);
      const event = { Records: [{}, { eventName: 'ObjectCreated:Put', s3: { object: {} } }, ...good.Records] };
      const summary = await handlerUnderTest()(event as never);
      expect(summary.results.slice(0, 2)).toEqual([
        expect.objectContaining({ status: 'rejected', reason: expect.stringMatching(/record 0 .*s3\.object\.key/) }),
        expect.objectContaining({ status: 'rejected', reason: expect.stringMatching(/record 1 .*s3\.bucket\.name/) }),
      ]);
      expect(summary.results[2]).toMatchObject({ app: 'orders-api', build: '1' });
      expect(log.lines.filter((l) => l.message === 'upload rejected: malformed S3 event record')).toHaveLength(2);
    });
  });

  describe('an app name that is a property of every object is not an app', () => {
    const expectRejectedUnderRejected = async (name: string, code: string, reason: RegExp) => {
      const key = `artifacts/${name}/1.zip`;
      const summary = await handlerUnderTest()(eventFor(key));

      expect(summary.results).toEqual([expect.objectContaining({ status: 'rejected', key })]);
      expect(summary.results[0]?.reason).toMatch(reason);
      const warning = log.lines.find((l) => l.message === 'upload rejected');
      expect(warning).toMatchObject({ level: 'warn', attributes: { key } });
      expect(warning?.attributes.reason).toMatch(reason);
      const [entry, ...others] = world.docs<LedgerEntry>('ledger/_rejected/');
      expect(others).toEqual([]);
      expect(entry).toMatchObject({ app: '_rejected', outcome: 'rejected', code, trigger: 'upload' });
      expect(entry?.source).toMatchObject({ bucket: BUCKET, key });
      expect(entry?.reason).toMatch(reason);
      expect(world.docs(`ledger/${name}/`)).toEqual([]);
      expect(reads).toEqual([]);
      expect(count('sts', 'AssumeRole')).toBe(0);
      expect(lambdaRequests('UpdateFunctionCode')).toEqual([]);
    };

    it('constructor: rejected as an unknown app, in the log and the ledger', async () => {
      await expectRejectedUnderRejected('constructor', 'UNKNOWN_APP', /UNKNOWN_APP: No app 'constructor'/);
      expect(log.lines.find((l) => l.message === 'upload rejected')?.attributes.errorCode).toBe('UNKNOWN_APP');
    });

    // App names are lower case, so these never reach the app lookup: the key itself is refused.
    it.each(['toString', 'hasOwnProperty', '__proto__'])('%s: rejected as a malformed key', async (name) => {
      await expectRejectedUnderRejected(name, 'KEY_MALFORMED', new RegExp(`KEY_MALFORMED: The app '${name}'`));
    });
  });

  it('skips an older build that arrives after a newer one, without failing the invocation', async () => {
    const handler = handlerUnderTest();
    await handler(await uploaded('41', await makeZip([{ name: 'index.mjs', content: 'newer' }])));
    const late = await uploaded('40', await makeZip([{ name: 'index.mjs', content: 'older' }]));
    const updates = lambdaRequests('UpdateFunctionCode').length;
    const summary = await handler(late);
    expect(summary.results[0]?.status).toBe('skipped');
    expect(lambdaRequests('UpdateFunctionCode')).toHaveLength(updates);
    const entries = world.docs<LedgerEntry>('ledger/orders-api/dev/entries/');
    expect(entries.find((e) => e.build === '40')).toMatchObject({
      outcome: 'skipped',
      code: 'BUILD_OLDER_THAN_CURRENT',
    });
    expect(world.readJson<CurrentState>('ledger/orders-api/dev/current.json')?.build).toBe('41');
  });

  it('decodes a URL-encoded key from the event and deploys the build it names', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'enc' }]);
    const event = await uploaded('2026.11.22-1', zip);
    const record = event.Records[0];
    if (!record) throw new Error('no record');
    // Every character percent-encoded: only a decoded key names the app and the build.
    record.s3.object.key = [...'artifacts/orders-api/2026.11.22-1.zip']
      .map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
      .join('');

    const summary = await handlerUnderTest()(event);

    expect(summary.results).toEqual([
      { app: 'orders-api', build: '2026.11.22-1', status: 'succeeded', key: 'artifacts/orders-api/2026.11.22-1.zip' },
    ]);
    expect(world.fn(DEV).versions.map((v) => v.codeSha256)).toEqual([sha256(zip)]);
    expect(world.aliasVersion(DEV)).toBe('1');
  });
});
