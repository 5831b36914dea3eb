import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, type SandboxCredentials, startSandbox } from '../src/index.js';
import {
  allow,
  assumeRole,
  catchError,
  createAssumerSession,
  NO_RETRY,
  toCredentials,
  trustAccount,
} from './helpers.js';

describe('sandbox STS', () => {
  let sandbox: Sandbox;
  let tooling: CreatedAccount;
  let target: CreatedAccount;
  let roleArn: string;
  /** A role session in the tooling account: AssumeRole needs an IAM principal, not root. */
  let ci: SandboxCredentials;

  beforeEach(async () => {
    sandbox = await startSandbox();
    tooling = sandbox.createAccount();
    target = sandbox.createAccount();
    roleArn = sandbox.createRole({
      accountId: target.accountId,
      roleName: 'ferry-deploy',
      trustPolicy: trustAccount(tooling.accountId, 'ext-123'),
      policies: [allow('s3:ListAllMyBuckets')],
    }).roleArn;
    ci = createAssumerSession(sandbox, tooling.accountId, 'ci');
  });
  afterEach(() => sandbox.stop());

  const sts = (credentials = ci) => new STSClient({ ...sandbox.clientConfig(credentials), ...NO_RETRY });

  it('names the root user of the signing account in GetCallerIdentity', async () => {
    // AWS STS API Reference, GetCallerIdentity: returns Account, Arn and UserId of the caller.
    const identity = await sts(tooling.credentials).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Account: tooling.accountId,
      Arn: `arn:aws:iam::${tooling.accountId}:root`,
      UserId: tooling.accountId,
    });
  });

  it('refuses AssumeRole called with root user credentials', async () => {
    // AWS STS API Reference, AssumeRole: "You cannot use AWS account root user credentials to call
    // AssumeRole. You must use credentials for an IAM user or an IAM role."
    const trustingRoot = sandbox.createRole({
      accountId: target.accountId,
      roleName: 'trusts-root',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${tooling.accountId}:root` }, Action: 'sts:AssumeRole' },
        ],
      },
    }).roleArn;
    for (const [caller, arn] of [
      [tooling, trustingRoot],
      [target, trustingRoot],
      [tooling, roleArn],
    ] as const) {
      const error = await catchError(assumeRole(sandbox, caller.credentials, { roleArn: arn, externalId: 'ext-123' }));
      expect(error.name).toBe('AccessDenied');
      expect(error.$metadata?.httpStatusCode).toBe(403);
      expect(error.message).toBe('Roles may not be assumed by root accounts.');
    }
    // The same role is assumable from an IAM role session of the trusted account.
    await expect(assumeRole(sandbox, ci, { roleArn: trustingRoot })).resolves.toMatchObject({
      accessKeyId: expect.stringMatching(/^ASIA/),
    });
  });

  it('mints role credentials directly for seeding, as a service does for the role it runs as', async () => {
    const before = sandbox.clock.now();
    const issued = sandbox.issueRoleCredentials({ roleArn, sessionName: 'seeded', durationSeconds: 900 });
    const after = sandbox.clock.now();
    expect(issued.accessKeyId).toMatch(/^ASIA/);
    expect(issued.sessionToken).toEqual(expect.any(String));
    const expiresAt = issued.expiration?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 900_000);
    const identity = await sts(issued).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(target.accountId);
    expect(identity.Arn).toBe(`arn:aws:sts::${target.accountId}:assumed-role/ferry-deploy/seeded`);
    expect(identity.UserId).toMatch(/^AROA[A-Z0-9]+:seeded$/);
    sandbox.clock.advance(900_000);
    expect((await catchError(sts(issued).send(new GetCallerIdentityCommand({})))).name).toBe('ExpiredToken');

    expect(() => sandbox.issueRoleCredentials({ roleArn: `${roleArn}-missing`, sessionName: 'x1' })).toThrow(
      /unknown role/,
    );
    expect(() => sandbox.issueRoleCredentials({ roleArn, sessionName: 'has space' })).toThrow(/session name/);
    expect(() => sandbox.issueRoleCredentials({ roleArn, sessionName: 'long', durationSeconds: 7200 })).toThrow(
      /durationSeconds/,
    );
  });

  it('mints role credentials over the admin route for clients in other processes', async () => {
    const answer = await fetch(`${sandbox.endpoint}/_sandbox/role-credentials`, {
      method: 'POST',
      body: JSON.stringify({ roleArn, sessionName: 'from-cli' }),
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as Required<Record<keyof SandboxCredentials, string>>;
    expect(body).toMatchObject({ sessionToken: expect.any(String), expiration: expect.stringMatching(/Z$/) });
    const identity = await sts({ ...body, expiration: new Date(body.expiration) }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(identity.Arn).toBe(`arn:aws:sts::${target.accountId}:assumed-role/ferry-deploy/from-cli`);
    const refused = await fetch(`${sandbox.endpoint}/_sandbox/role-credentials`, {
      method: 'POST',
      body: JSON.stringify({ roleArn: `${roleArn}-missing`, sessionName: 'from-cli' }),
    });
    expect(refused.status).toBe(400);
  });

  it('issues temporary credentials that act as the assumed role in the role account', async () => {
    // AWS STS API Reference, AssumeRole: "Returns a set of temporary security credentials";
    // the caller becomes arn:aws:sts::<account>:assumed-role/<role>/<session>.
    const credentials = await assumeRole(sandbox, ci, {
      roleArn,
      externalId: 'ext-123',
      sessionName: 'deploy-app-42',
    });
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    const identity = await sts(credentials).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(target.accountId);
    expect(identity.Arn).toBe(`arn:aws:sts::${target.accountId}:assumed-role/ferry-deploy/deploy-app-42`);
    expect(identity.UserId).toMatch(/^AROA[A-Z0-9]+:deploy-app-42$/);

    sandbox.createBucket({ accountId: target.accountId, name: 'target-bucket' });
    sandbox.createBucket({ accountId: tooling.accountId, name: 'tooling-bucket' });
    const buckets = await new S3Client({ ...sandbox.clientConfig(credentials), ...NO_RETRY }).send(
      new ListBucketsCommand({}),
    );
    expect(buckets.Buckets?.map((b) => b.Name)).toEqual(['target-bucket']);
  });

  it('refuses AssumeRole when the ExternalId does not match the trust policy', async () => {
    // IAM User Guide, "Access to AWS accounts owned by third parties": the trust policy's
    // sts:ExternalId condition must match, otherwise AssumeRole is denied.
    const wrong = await catchError(assumeRole(sandbox, ci, { roleArn, externalId: 'other' }));
    expect(wrong.name).toBe('AccessDenied');
    expect(wrong.$metadata?.httpStatusCode).toBe(403);
    expect(wrong.message).toContain(`not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    const missing = await catchError(assumeRole(sandbox, ci, { roleArn }));
    expect(missing.name).toBe('AccessDenied');
  });

  it('refuses AssumeRole when the trust policy does not admit the caller account', async () => {
    // AWS STS API Reference, AssumeRole: the role's trust policy must name the caller as principal.
    const stranger = createAssumerSession(sandbox, sandbox.createAccount().accountId, 'stranger');
    const error = await catchError(assumeRole(sandbox, stranger, { roleArn, externalId: 'ext-123' }));
    expect(error.name).toBe('AccessDenied');
  });

  it('refuses AssumeRole of a role that does not exist with AccessDenied', async () => {
    const error = await catchError(
      assumeRole(sandbox, ci, { roleArn: `arn:aws:iam::${target.accountId}:role/missing` }),
    );
    expect(error.name).toBe('AccessDenied');
  });

  it('requires the caller own sts:AssumeRole permission when the trust policy names only its account', async () => {
    // IAM User Guide, "Cross-account policy evaluation logic": both the identity policy of the
    // caller and the resource (trust) policy must allow.
    // The ci session's role, replaced by one without sts:AssumeRole.
    sandbox.createRole({
      accountId: tooling.accountId,
      roleName: 'ci',
      trustPolicy: trustAccount(tooling.accountId),
      policies: [allow('s3:*')],
    });
    const denied = await catchError(assumeRole(sandbox, ci, { roleArn, externalId: 'ext-123' }));
    expect(denied.name).toBe('AccessDenied');

    sandbox.createRole({
      accountId: tooling.accountId,
      roleName: 'ci',
      trustPolicy: trustAccount(tooling.accountId),
      policies: [allow('sts:AssumeRole', roleArn)],
    });
    await expect(assumeRole(sandbox, ci, { roleArn, externalId: 'ext-123' })).resolves.toMatchObject({
      accessKeyId: expect.stringMatching(/^ASIA/),
    });
  });

  it('validates DurationSeconds and RoleSessionName as ValidationError', async () => {
    // AWS STS API Reference, AssumeRole: DurationSeconds 900..43200; RoleSessionName 2-64 of [\w+=,.@-]*.
    const client = sts();
    const short = await catchError(
      client.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'ok', ExternalId: 'ext-123', DurationSeconds: 899 }),
      ),
    );
    expect(short.name).toBe('ValidationError');
    expect(short.message).toContain("at 'durationSeconds' failed to satisfy constraint");
    const badName = await catchError(
      client.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'has space', ExternalId: 'ext-123' })),
    );
    expect(badName.name).toBe('ValidationError');
    expect(badName.message).toContain('[\\w+=,.@-]*');
    // A role session asking for more than an hour hits the role-chaining cap (STS API Reference,
    // AssumeRole, DurationSeconds), which the role's MaxSessionDuration (at least 1 hour) cannot lift.
    const long = await catchError(
      client.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: 'ok',
          ExternalId: 'ext-123',
          DurationSeconds: 7200,
        }),
      ),
    );
    expect(long.name).toBe('ValidationError');
    expect(long.message).toContain('1 hour session limit for roles assumed by role chaining');
  });

  it('narrows the session to the intersection of the role policy and the session policy', async () => {
    // IAM User Guide, "Session policies": the session's permissions are the intersection of the
    // role's identity policies and the session policy.
    sandbox.createBucket({ accountId: target.accountId, name: 'target-bucket' });
    const output = await sts().send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'narrow',
        ExternalId: 'ext-123',
        Policy: JSON.stringify(allow('s3:GetObject')),
      }),
    );
    const s3 = new S3Client({ ...sandbox.clientConfig(toCredentials(output)), ...NO_RETRY });
    const error = await catchError(s3.send(new ListBucketsCommand({})));
    expect(error.name).toBe('AccessDenied');
  });

  it('stops accepting temporary credentials once they expire', async () => {
    // AWS STS API Reference, AssumeRole: credentials last DurationSeconds; afterwards requests fail with ExpiredToken.
    const credentials = await assumeRole(sandbox, ci, { roleArn, externalId: 'ext-123' });
    await expect(sts(credentials).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    sandbox.clock.advance(3600_000);
    const error = await catchError(sts(credentials).send(new GetCallerIdentityCommand({})));
    expect(error.name).toBe('ExpiredToken');
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });
});
