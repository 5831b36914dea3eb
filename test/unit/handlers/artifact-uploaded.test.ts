import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  CreateAliasCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { createArtifactUploadedHandler, DeploymentsFailedError } from '../../../src/handlers/artifact-uploaded.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { createFakeLambda, type FakeFunction, type FakeLambda, sha256 } from '../../support/fake-lambda.js';
import { MemoryS3 } from '../../support/memory-s3.js';
import { recordLog } from '../../support/record-log.js';
import { makeZip } from '../../support/zips.js';

const fixture = JSON.parse(readFileSync('test/fixtures/events/s3-object-created.json', 'utf8')) as S3Event;
const meta = { $metadata: {} };

const config = parseConfig({
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } },
    'billing-api': { targets: { prod: [{ account: '444444444444', function: 'billing' }] } },
  },
});

function eventFor(key: string, size = 1024): S3Event {
  const record = structuredClone(fixture.Records[0]);
  if (!record) throw new Error('fixture has no record');
  record.s3.object.key = key;
  record.s3.object.size = size;
  return { Records: [record] };
}

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
let fake: FakeLambda;
let lambda: FakeLambda['mock'];
let fn: FakeFunction;
let log: ReturnType<typeof recordLog>;
let memory: MemoryS3;
const BUCKET = 'ferry-artifacts-111111111111';

function serveObject(
  body: Buffer,
  extra: { checksum?: string; checksumType?: 'FULL_OBJECT' | 'COMPOSITE'; metadata?: Record<string, string> } = {},
) {
  fake.readS3Code = (bucket, _key, versionId) =>
    bucket === BUCKET && versionId === '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' ? body : undefined;
  memory.attach(s3, () => ({
    Body: Readable.from([body]),
    ContentLength: body.length,
    VersionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
    ...(extra.checksum ? { ChecksumSHA256: extra.checksum } : {}),
    ...(extra.checksumType ? { ChecksumType: extra.checksumType } : {}),
    Metadata: extra.metadata ?? {},
  }));
}

function handlerUnderTest() {
  const runtime = createRuntime(config, { sleep: async () => {}, random: () => 0, env: {} });
  return createArtifactUploadedHandler(() => runtime, log);
}

beforeEach(() => {
  fake = createFakeLambda();
  ({ mock: lambda, fn } = fake);
  s3.reset();
  memory = new MemoryS3();
  memory.attach(s3, () => {
    throw new NoSuchKey({ message: 'no such key', $metadata: {} });
  });
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111111111111:assumed-role/ferry/fn' });
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIATEST',
      SecretAccessKey: 'never-logged-secret',
      SessionToken: 'tok',
      Expiration: new Date(Date.now() + 3600_000),
    },
  });
  log = recordLog();
});

afterEach(() => {
  // Whatever happened, no credential reached a log line.
  expect(JSON.stringify(log.lines)).not.toMatch(/never-logged-secret|ASIATEST|tok"/);
});

describe('artifact-uploaded handler', () => {
  it('first deploy: assumes the role with the ExternalId, updates, publishes and creates the alias', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
    serveObject(zip, { checksum: sha256(zip) });
    const summary = await handlerUnderTest()(eventFor('artifacts/orders-api/2026.11.22-7.zip'));

    expect(summary.results).toEqual([
      { app: 'orders-api', build: '2026.11.22-7', status: 'succeeded', key: 'artifacts/orders-api/2026.11.22-7.zip' },
    ]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'ferry-artifacts-111111111111',
      Key: 'artifacts/orders-api/2026.11.22-7.zip',
      VersionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
    });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::222222222222:role/ferry-deploy',
      ExternalId: 'ferry-ext',
      RoleSessionName: 'ferry-orders-api-2026.11.22-7',
    });
    expect(lambda).toHaveReceivedCommandWith(PublishVersionCommand, {
      CodeSha256: sha256(zip),
      Description: `ferry: orders-api 2026.11.22-7 sha256:${sha256(zip)}`,
    });
    expect(fn.alias?.version).toBe('1');
    expect(fn.codeSha256).toBe(sha256(zip));
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

  it('publishes with the RevisionId read after the update settled', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
    serveObject(zip);
    await handlerUnderTest()(eventFor('artifacts/orders-api/8.zip'));
    const publish = lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input;
    const update = lambda.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input;
    expect(publish?.RevisionId).toBeDefined();
    expect(publish?.RevisionId).not.toBe(update?.RevisionId);
  });

  it('unchanged re-delivery: no new code, no new version, the alias stays', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'same' }]);
    serveObject(zip);
    const handler = handlerUnderTest();
    await handler(eventFor('artifacts/orders-api/9.zip'));
    lambda.resetHistory();
    const again = await handler(eventFor('artifacts/orders-api/9.zip'));
    expect(again.results[0]?.status).toBe('succeeded');
    expect(lambda).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    expect(lambda).not.toHaveReceivedCommand(PublishVersionCommand);
    expect(lambda).not.toHaveReceivedCommand(UpdateAliasCommand);
    expect(fn.versions).toHaveLength(1);
    expect(log.lines.some((l) => l.message === 'target unchanged')).toBe(true);
  });

  it('retries an update that conflicts with one still in progress', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'conflict' }]);
    serveObject(zip);
    fake.failNext(
      'UpdateFunctionCode',
      new ResourceConflictException({ message: 'An update is in progress for resource', ...meta }),
      2,
    );
    await handlerUnderTest()(eventFor('artifacts/orders-api/10.zip'));
    expect(lambda).toHaveReceivedCommandTimes(UpdateFunctionCodeCommand, 3);
    expect(fn.alias?.version).toBe('1');
    expect(fn.codeSha256).toBe(sha256(zip));
  });

  it('absorbs throttling with backoff', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'throttle' }]);
    serveObject(zip);
    fake.failNext('PublishVersion', new TooManyRequestsException({ message: 'Rate exceeded', ...meta }), 3);
    const summary = await handlerUnderTest()(eventFor('artifacts/orders-api/11.zip'));
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambda).toHaveReceivedCommandTimes(PublishVersionCommand, 4);
  });

  it('absorbs throttling of the first CreateAlias with backoff', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'throttled-create' }]);
    serveObject(zip);
    fake.failNext('CreateAlias', new TooManyRequestsException({ message: 'Rate exceeded', ...meta }), 2);
    const summary = await handlerUnderTest()(eventFor('artifacts/orders-api/16.zip'));
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambda).toHaveReceivedCommandTimes(CreateAliasCommand, 3);
    expect(fn.alias?.version).toBe('1');
    expect(fn.versions).toHaveLength(1);
  });

  it('an alias created concurrently is not created again: ferry re-plans and moves it', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'raced-create' }]);
    serveObject(zip);
    lambda.on(CreateAliasCommand).callsFakeOnce(() => {
      // Another delivery won the race between ferry's GetAlias and its CreateAlias.
      fn.alias = { version: '1', revisionId: 'other-writer', routing: { '1': 0.5 } };
      throw new ResourceConflictException({ message: 'Alias already exists: live', ...meta });
    });
    const summary = await handlerUnderTest()(eventFor('artifacts/orders-api/17.zip'));
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambda).toHaveReceivedCommandTimes(CreateAliasCommand, 1);
    expect(lambda).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionVersion: '1', RevisionId: 'other-writer' });
    expect(fn.alias).toMatchObject({ version: '1', routing: {} });
    expect(fn.versions).toHaveLength(1);
  });

  it('fails the invocation when throttling outlasts the retries, so Lambda retries it', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'throttled-forever' }]);
    serveObject(zip);
    fake.failNext('PublishVersion', new TooManyRequestsException({ message: 'Rate exceeded', ...meta }), 100);
    await expect(handlerUnderTest()(eventFor('artifacts/orders-api/12.zip'))).rejects.toBeInstanceOf(
      DeploymentsFailedError,
    );
    expect(fn.alias).toBeUndefined();
    expect(log.lines.find((l) => l.message === 'target deployment failed')?.attributes.errorCode).toBe(
      'LAMBDA_THROTTLED',
    );
  });

  it('re-plans when the function changed between reading and writing (RevisionId)', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'precondition' }]);
    serveObject(zip);
    fake.failNext(
      'UpdateFunctionCode',
      new PreconditionFailedException({ message: 'The Revision Id provided does not match', ...meta }),
    );
    const summary = await handlerUnderTest()(eventFor('artifacts/orders-api/13.zip'));
    expect(summary.results[0]?.status).toBe('succeeded');
    expect(lambda).toHaveReceivedCommandTimes(UpdateFunctionCodeCommand, 2);
    expect(fn.versions).toHaveLength(1);
  });

  it('an update that ends Failed carries Lambda reason and leaves the alias alone', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'fails' }]);
    serveObject(zip);
    fn.alias = { version: '7', revisionId: 'a', routing: {} };
    fn.failNextUpdate = 'EniLimitExceeded';
    const run = handlerUnderTest()(eventFor('artifacts/orders-api/14.zip'));
    await expect(run).rejects.toThrowError(/LAMBDA_UPDATE_FAILED.*EniLimitExceeded/);
    expect(lambda).not.toHaveReceivedCommand(PublishVersionCommand);
    expect(lambda).not.toHaveReceivedCommand(UpdateAliasCommand);
    expect(fn.alias.version).toBe('7');
  });

  it('fails clearly when the deploy role cannot be assumed', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
    serveObject(zip);
    sts
      .on(AssumeRoleCommand)
      .rejects(new STSServiceException({ name: 'AccessDenied', $fault: 'client', message: 'not authorized', ...meta }));
    await expect(handlerUnderTest()(eventFor('artifacts/orders-api/15.zip'))).rejects.toThrowError(
      /could not assume arn:aws:iam::222222222222:role\/ferry-deploy in account 222222222222/,
    );
    expect(lambda).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });

  describe('rejects bad input, deploys nowhere and does not ask for a retry', () => {
    const expectRejected = async (key: string, code: RegExp, size = 1024) => {
      const summary = await handlerUnderTest()(eventFor(key, size));
      expect(summary.results[0]?.status).toBe('rejected');
      expect(summary.results[0]?.reason).toMatch(code);
      expect(lambda).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
      expect(lambda).not.toHaveReceivedCommand(CreateAliasCommand);
      const warning = log.lines.find((l) => l.level === 'warn');
      expect(warning?.attributes.reason).toMatch(code);
    };

    it('records every rejected input in the ledger with its reason', async () => {
      await handlerUnderTest()(eventFor('artifacts/payments/1.zip'));
      await handlerUnderTest()(eventFor('artifacts/orders-api/nested/1.zip'));
      serveObject(Buffer.from('not a zip'));
      await handlerUnderTest()(eventFor('artifacts/orders-api/25.zip'));
      const rejected = memory.docs<LedgerEntry>(BUCKET, 'ledger/_rejected/');
      expect(rejected.map((e) => e.code).sort()).toEqual(['KEY_MALFORMED', 'UNKNOWN_APP']);
      expect(rejected.every((e) => e.outcome === 'rejected' && e.reason && e.source?.key)).toBe(true);
      const [bad] = memory.docs<LedgerEntry>(BUCKET, 'ledger/orders-api/dev/entries/');
      expect(bad).toMatchObject({
        app: 'orders-api',
        stage: 'dev',
        build: '25',
        outcome: 'rejected',
        code: 'ARTIFACT_CORRUPT',
      });
    });

    it('a checksum mismatch with S3 ChecksumSHA256', async () => {
      const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
      serveObject(zip, { checksum: sha256(Buffer.from('other')) });
      await expectRejected('artifacts/orders-api/20.zip', /ARTIFACT_CHECKSUM_MISMATCH/);
    });

    it('a multipart upload whose ChecksumSHA256 S3 reports as COMPOSITE', async () => {
      const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
      // The type alone decides: the adapter must pass S3's ChecksumType through.
      serveObject(zip, { checksum: sha256(Buffer.from('parts')), checksumType: 'COMPOSITE' });
      await expectRejected('artifacts/orders-api/26.zip', /ARTIFACT_CHECKSUM_UNVERIFIABLE/);
    });

    it('a checksum mismatch with the declared metadata checksum', async () => {
      const zip = await makeZip([{ name: 'index.mjs', content: 'x' }]);
      serveObject(zip, { metadata: { sha256: sha256(Buffer.from('other')) } });
      await expectRejected('artifacts/orders-api/21.zip', /ARTIFACT_CHECKSUM_MISMATCH/);
    });

    it('an oversize artifact, before downloading it', async () => {
      await expectRejected('artifacts/orders-api/22.zip', /ARTIFACT_TOO_LARGE/, 300 * 1024 * 1024);
      const reads = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key);
      expect(reads).not.toContain('artifacts/orders-api/22.zip');
    });

    it('a corrupt zip', async () => {
      serveObject(Buffer.from('this is not a zip at all, just text'));
      await expectRejected('artifacts/orders-api/23.zip', /ARTIFACT_CORRUPT/);
    });

    it('a zip with a .. entry', async () => {
      const { patchZipEntry } = await import('../../support/zips.js');
      const zip = patchZipEntry(await makeZip([{ name: 'aa/evil.js', content: 'x' }]), 0, { name: '../evil.js' });
      serveObject(zip);
      await expectRejected('artifacts/orders-api/24.zip', /ARTIFACT_UNSAFE_PATH/);
    });

    it('an unknown app', async () => {
      await expectRejected('artifacts/payments/1.zip', /UNKNOWN_APP/);
      expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    });

    it('a malformed key', async () => {
      await expectRejected('artifacts/orders-api/nested/1.zip', /KEY_MALFORMED/);
    });

    it('an app whose stages do not accept uploads (production is reached only by promotion)', async () => {
      await expectRejected('artifacts/billing-api/1.zip', /NO_UPLOAD_STAGE/);
      expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
    });
  });

  it("records the deployment in the ledger and makes it the stage's current build", async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'ledger' }]);
    serveObject(zip);
    await handlerUnderTest()(eventFor('artifacts/orders-api/30.zip'));
    const [entry] = memory.docs<LedgerEntry>(BUCKET, 'ledger/orders-api/dev/entries/');
    expect(entry).toMatchObject({
      app: 'orders-api',
      stage: 'dev',
      build: '30',
      codeSha256: sha256(zip),
      trigger: 'upload',
      // The uploader the S3 event names, not ferry's own role.
      caller: 's3-uploader:AWS:AROAEXAMPLEID:ci-upload',
      outcome: 'succeeded',
      source: { bucket: BUCKET, key: 'artifacts/orders-api/30.zip', versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' },
      targets: [{ targetId: '222222222222/eu-west-1/orders-api:live', version: '1', outcome: 'deployed' }],
    });
    expect(memory.read<CurrentState>(BUCKET, 'ledger/orders-api/dev/current.json')).toMatchObject({
      build: '30',
      targets: { '222222222222/eu-west-1/orders-api:live': '1' },
    });
    expect(memory.read<{ released: boolean }>(BUCKET, 'leases/orders-api/dev.json')?.released).toBe(true);
  });

  it('names the uploader of a rejected upload in the ledger, and keeps an odd principal log-safe', async () => {
    const event = eventFor('artifacts/payments/1.zip');
    const malformed = eventFor('artifacts/orders-api/nested/1.zip');
    const record = malformed.Records[0];
    if (!record) throw new Error('no record');
    record.userIdentity.principalId = 'AWS:AROAEXAMPLEID:ci\nforged line {"level":"error"}';
    await handlerUnderTest()({ Records: [...event.Records, record] });

    const rejected = memory.docs<LedgerEntry>(BUCKET, 'ledger/_rejected/');
    expect(rejected.map((e) => [e.code, e.caller]).sort()).toEqual([
      ['KEY_MALFORMED', 's3-uploader:AWS:AROAEXAMPLEID:ci-forged-line---level-:-error--'],
      ['UNKNOWN_APP', 's3-uploader:AWS:AROAEXAMPLEID:ci-upload'],
    ]);
    expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
  });

  it('a rejected artifact of a known app names the uploader too', async () => {
    serveObject(Buffer.from('not a zip'));
    await handlerUnderTest()(eventFor('artifacts/orders-api/26.zip'));
    const [bad] = memory.docs<LedgerEntry>(BUCKET, 'ledger/orders-api/dev/entries/');
    expect(bad).toMatchObject({ outcome: 'rejected', caller: 's3-uploader:AWS:AROAEXAMPLEID:ci-upload' });
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
      const [entry, ...others] = memory.docs<LedgerEntry>(BUCKET, 'ledger/_rejected/');
      expect(others).toEqual([]);
      expect(entry).toMatchObject({ app: '_rejected', outcome: 'rejected', code, trigger: 'upload' });
      expect(entry?.source).toMatchObject({ bucket: BUCKET, key });
      expect(entry?.reason).toMatch(reason);
      expect(memory.docs(BUCKET, `ledger/${name}/`)).toEqual([]);
      expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
      expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
      expect(lambda).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
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
    serveObject(await makeZip([{ name: 'index.mjs', content: 'newer' }]));
    await handler(eventFor('artifacts/orders-api/41.zip'));
    serveObject(await makeZip([{ name: 'index.mjs', content: 'older' }]));
    lambda.resetHistory();
    const summary = await handler(eventFor('artifacts/orders-api/40.zip'));
    expect(summary.results[0]?.status).toBe('skipped');
    expect(lambda).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    const entries = memory.docs<LedgerEntry>(BUCKET, 'ledger/orders-api/dev/entries/');
    expect(entries.find((e) => e.build === '40')).toMatchObject({
      outcome: 'skipped',
      code: 'BUILD_OLDER_THAN_CURRENT',
    });
    expect(memory.read<CurrentState>(BUCKET, 'ledger/orders-api/dev/current.json')?.build).toBe('41');
  });

  it('decodes URL-encoded keys from the event', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'enc' }]);
    serveObject(zip);
    await handlerUnderTest()(eventFor('artifacts/orders-api/2026.11.22%2B1.zip'));
    expect(log.lines.find((l) => l.level === 'warn')?.attributes.reason).toMatch(/2026\.11\.22\+1/);
  });
});
