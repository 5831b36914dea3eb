import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type S3Event, type Sandbox, startSandbox } from '../src/index.js';
import { NO_RETRY } from './helpers.js';

describe('sandbox S3 event notifications', () => {
  let sandbox: Sandbox;
  let owner: CreatedAccount;
  let s3: S3Client;
  let received: S3Event[];

  beforeEach(async () => {
    sandbox = await startSandbox({ defaultRegion: 'eu-west-1' });
    owner = sandbox.createAccount();
    sandbox.createBucket({ accountId: owner.accountId, name: 'ferry-artifacts', versioning: true });
    s3 = new S3Client({ ...sandbox.clientConfig(owner.credentials), ...NO_RETRY });
    received = [];
    sandbox.subscribeToObjectCreated(
      'ferry-artifacts',
      { prefix: 'artifacts/', suffix: '.zip', id: 'ferry' },
      (event) => {
        received.push(event);
      },
    );
  });
  afterEach(() => sandbox.stop());

  const put = (key: string, body = 'zip') =>
    s3.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: key, Body: body }));

  it('delivers ObjectCreated:Put in the documented message structure', async () => {
    // Amazon S3 User Guide, "Event message structure": eventVersion 2.1, URL-encoded key (spaces as +),
    // size, eTag, versionId and a hexadecimal sequencer.
    const output = await put('artifacts/my app/build 7.zip', 'hello');
    await sandbox.drainEvents();
    expect(received).toHaveLength(1);
    const record = received[0]?.Records[0];
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: expect.any(String) },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'ferry',
        bucket: {
          name: 'ferry-artifacts',
          ownerIdentity: { principalId: expect.any(String) },
          arn: 'arn:aws:s3:::ferry-artifacts',
        },
        object: {
          key: 'artifacts/my+app/build+7.zip',
          size: 5,
          eTag: output.ETag?.replace(/"/g, ''),
          versionId: output.VersionId,
          sequencer: expect.stringMatching(/^[0-9A-F]+$/),
        },
      },
    });
    expect(new Date(record?.eventTime ?? '').toISOString()).toBe(record?.eventTime);
    expect(decodeURIComponent((record?.s3.object.key ?? '').replace(/\+/g, ' '))).toBe('artifacts/my app/build 7.zip');
  });

  it('gives later writes of the same key a greater sequencer', async () => {
    // Amazon S3 User Guide, "Event message structure": the sequencer orders events for the same key.
    await put('artifacts/app/1.zip', 'a');
    await put('artifacts/app/1.zip', 'b');
    await sandbox.drainEvents();
    const [first, second] = received.map((event) => event.Records[0]?.s3.object.sequencer ?? '');
    expect(BigInt(`0x${second}`) > BigInt(`0x${first}`)).toBe(true);
  });

  it('filters by prefix and suffix', async () => {
    await put('artifacts/app/readme.txt');
    await put('other/app/1.zip');
    await sandbox.drainEvents();
    expect(received).toHaveLength(0);
  });

  it('duplicates deliveries when told to (at-least-once delivery)', async () => {
    // Amazon S3 User Guide, "Amazon S3 Event Notifications": events are delivered at least once, occasionally more.
    sandbox.events.setFaults({ duplicate: 3 });
    await put('artifacts/app/1.zip');
    await sandbox.drainEvents();
    expect(received).toHaveLength(3);
    expect(new Set(received.map((e) => e.Records[0]?.s3.object.sequencer)).size).toBe(1);
  });

  it('holds deliveries until drainEvents releases them', async () => {
    // S3 delivers notifications asynchronously, after the write has been answered.
    sandbox.events.setFaults({ hold: true });
    await put('artifacts/app/1.zip');
    await put('artifacts/app/2.zip');
    expect(received).toHaveLength(0);
    expect(sandbox.events.deliveries()).toHaveLength(0);
    await sandbox.drainEvents();
    expect(received.map((e) => e.Records[0]?.s3.object.key)).toEqual(['artifacts/app/1.zip', 'artifacts/app/2.zip']);
  });

  it('releases held deliveries on request, and delivers as usual once the hold is lifted', async () => {
    sandbox.events.setFaults({ hold: true });
    let arrived!: (key: string) => void;
    const delivered = new Promise<string>((resolve) => {
      arrived = resolve;
    });
    sandbox.subscribeToObjectCreated('ferry-artifacts', { prefix: 'release/' }, (event) =>
      arrived(event.Records[0]?.s3.object.key ?? ''),
    );
    await put('release/1.zip');
    expect(sandbox.events.deliveries()).toHaveLength(0);
    sandbox.events.release();
    await expect(delivered).resolves.toBe('release/1.zip');

    sandbox.events.setFaults({ hold: false });
    await put('artifacts/app/2.zip');
    await sandbox.drainEvents();
    expect(received).toHaveLength(1);
  });

  it('waits for delayed deliveries in drainEvents without the test sleeping', async () => {
    sandbox.events.setFaults({ delayMs: 50 });
    await put('artifacts/app/1.zip');
    await sandbox.drainEvents();
    expect(received).toHaveLength(1);
  });

  it('reorders a held batch, newest first', async () => {
    // Amazon S3 User Guide: notifications are not guaranteed to arrive in the order the events occurred.
    sandbox.events.setFaults({ reorderBatch: 3 });
    await put('artifacts/app/1.zip');
    await put('artifacts/app/2.zip');
    await put('artifacts/app/3.zip');
    await sandbox.drainEvents();
    expect(received.map((e) => e.Records[0]?.s3.object.key)).toEqual([
      'artifacts/app/3.zip',
      'artifacts/app/2.zip',
      'artifacts/app/1.zip',
    ]);
  });

  it('retries a failing handler twice, then records a dead letter', async () => {
    // AWS Lambda Developer Guide, "Asynchronous invocation": on error Lambda retries twice more.
    let calls = 0;
    sandbox.subscribeToObjectCreated('ferry-artifacts', { prefix: 'fail/' }, () => {
      calls += 1;
      throw new Error('handler failed');
    });
    await put('fail/x.zip');
    await sandbox.drainEvents();
    expect(calls).toBe(3);
    expect(sandbox.events.deadLetters()).toEqual([
      expect.objectContaining({
        attempts: 3,
        error: 'Error: handler failed',
        event: expect.objectContaining({ Records: expect.any(Array) }),
      }),
    ]);
  });

  it('succeeds on a retry without a dead letter', async () => {
    let calls = 0;
    sandbox.subscribeToObjectCreated('ferry-artifacts', { prefix: 'flaky/' }, () => {
      calls += 1;
      if (calls === 1) throw new Error('transient');
    });
    await put('flaky/x.zip');
    await sandbox.drainEvents();
    expect(calls).toBe(2);
    expect(sandbox.events.deadLetters()).toHaveLength(0);
  });
});
