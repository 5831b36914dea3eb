import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createRoleAssumer } from '../../../src/aws/sts.js';
import { AccessError, ThrottledError } from '../../../src/core/errors.js';
import { buildSessionName } from '../../../src/core/session-name.js';

const stsMock = mockClient(STSClient);
// Test files share a worker's modules (vitest.config.ts): give the client's real send back.
afterAll(() => stsMock.restore());
const ROLE = 'arn:aws:iam::222222222222:role/ferry-deploy';
let now = 1_000_000;
const credentials = (expiresInMs: number) => ({
  Credentials: {
    AccessKeyId: 'ASIAEXAMPLE',
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date(now + expiresInMs),
  },
});

beforeEach(() => {
  stsMock.reset();
  now = 1_000_000;
});

describe('role assumption', () => {
  it('sends the ExternalId, a session name naming app and build, and 900 s', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials(900_000));
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900, now: () => now });
    await assumer.assume({
      roleArn: ROLE,
      externalId: 'ext-1',
      sessionName: buildSessionName('orders-api', '2026.11.22-7'),
    });
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: ROLE,
      ExternalId: 'ext-1',
      RoleSessionName: 'ferry-orders-api-2026.11.22-7',
      DurationSeconds: 900,
    });
  });

  it('caches credentials per role and session until shortly before they expire', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials(900_000));
    const assumer = createRoleAssumer(new STSClient({}), {
      durationSeconds: 900,
      now: () => now,
      refreshMarginMs: 60_000,
    });
    await assumer.assume({ roleArn: ROLE, sessionName: 'ferry-a-1' });
    await assumer.assume({ roleArn: ROLE, sessionName: 'ferry-a-1' });
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    now += 900_000 - 30_000; // inside the refresh margin
    await assumer.assume({ roleArn: ROLE, sessionName: 'ferry-a-1' });
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('assumes again for the next build, so CloudTrail names the build actually deployed', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials(900_000));
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900, now: () => now });
    await assumer.assume({ roleArn: ROLE, sessionName: buildSessionName('orders-api', '1') });
    await assumer.assume({ roleArn: ROLE, sessionName: buildSessionName('orders-api', '2') });
    await assumer.assume({ roleArn: ROLE, sessionName: buildSessionName('orders-api', '2') });
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName)).toEqual([
      'ferry-orders-api-1',
      'ferry-orders-api-2',
    ]);
  });

  it('keeps separate credentials for another ExternalId', async () => {
    stsMock.on(AssumeRoleCommand).resolves(credentials(900_000));
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900, now: () => now });
    await assumer.assume({ roleArn: ROLE, externalId: 'a', sessionName: 's1' });
    await assumer.assume({ roleArn: ROLE, externalId: 'b', sessionName: 's1' });
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('fails with the role, the account and the likely fix, and does not cache the failure', async () => {
    stsMock
      .on(AssumeRoleCommand)
      .rejectsOnce(
        new STSServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: {},
          message: 'not authorized to perform sts:AssumeRole',
        }),
      )
      .resolves(credentials(900_000));
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900, now: () => now });
    const failure = assumer.assume({ roleArn: ROLE, externalId: 'wrong', sessionName: 's' });
    await expect(failure).rejects.toBeInstanceOf(AccessError);
    await expect(failure).rejects.toThrowError(/arn:aws:iam::222222222222:role\/ferry-deploy in account 222222222222/);
    await expect(failure).rejects.toThrowError(/trust policy/);
    await expect(assumer.assume({ roleArn: ROLE, sessionName: 's' })).resolves.toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
    });
  });

  it('reports throttling that outlasted the SDK retries as transient throttling, not access denied', async () => {
    // STS answers throttling with HTTP 400 and the code Throttling; the SDK marks it by name.
    stsMock.on(AssumeRoleCommand).rejects(
      new STSServiceException({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900, now: () => now });
    const failure = assumer.assume({ roleArn: ROLE, externalId: 'x', sessionName: 's' });
    await expect(failure).rejects.toBeInstanceOf(ThrottledError);
    await expect(failure).rejects.toMatchObject({ code: 'STS_THROTTLED', transient: true });
  });

  it('reports an STS server error as transient', async () => {
    stsMock.on(AssumeRoleCommand).rejects(
      new STSServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
        message: 'internal',
      }),
    );
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900, now: () => now });
    await expect(assumer.assume({ roleArn: ROLE, sessionName: 's' })).rejects.toMatchObject({
      code: 'STS_UNAVAILABLE',
      transient: true,
    });
  });

  it('never puts the secret in an error message', async () => {
    stsMock
      .on(AssumeRoleCommand)
      .resolves({ Credentials: { AccessKeyId: 'A', SecretAccessKey: 'TOPSECRET', SessionToken: '' } as never });
    const assumer = createRoleAssumer(new STSClient({}), { durationSeconds: 900 });
    await expect(assumer.assume({ roleArn: ROLE, sessionName: 's' })).rejects.not.toThrowError(/TOPSECRET/);
  });
});

describe('buildSessionName', () => {
  it('keeps to STS alphabet and length', () => {
    expect(buildSessionName('orders-api', 'feat/x y')).toBe('ferry-orders-api-feat-x-y');
    expect(buildSessionName('a'.repeat(60), 'b'.repeat(60))).toHaveLength(64);
    expect(buildSessionName('a', 'b')).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
