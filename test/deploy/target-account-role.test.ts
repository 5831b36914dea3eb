/**
 * templates/target-account-role.yml: the deploy role each target account creates. Checks the trust
 * policy and every permission after evaluating the template's intrinsics for sample parameters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { evaluateIdentityPolicies, type PolicyDocument } from '@ferry/aws-sandbox';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { type CloudWatchPort, createCloudWatchPort } from '../../src/aws/cloudwatch.js';
import { createLambdaPort, type LambdaPort } from '../../src/aws/lambda.js';
import { asList, evaluate, type Loose, parseTemplate, resolveTemplateParameters } from './cloudformation.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const template = parseTemplate(readFileSync(path.join(ROOT, 'templates/target-account-role.yml'), 'utf8')) as Loose;

const parameters = {
  FerryRoleArns:
    'arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-upload,arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-promote,arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-pipeline,arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-traffic',
  ExternalId: 'ferry-test-external-id',
  FunctionNames: 'orders-api,billing_worker',
  AppNames: 'orders-api,billing.worker',
  ArtifactBucketName: 'ferry-artifacts-111111111111-eu-west-1',
  ArtifactPrefix: 'artifacts/',
  AlarmNames: 'orders-5xx,orders p99',
  RoleName: 'ferry-deploy',
};

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: Loose;
  Condition?: Loose;
};

const ACCOUNT = '222222222222';
const role = evaluate(template.Resources.DeployRole, {
  parameters: resolveTemplateParameters(template, parameters),
  accountId: ACCOUNT,
}) as Record<string, Loose>;
const trust = role.Properties.AssumeRolePolicyDocument.Statement as Statement[];
const permissions = (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
  (p) => p.PolicyDocument.Statement,
);

const allows = permissions.filter((s) => s.Effect === 'Allow');

/** What IAM decides for the role's own policies (the sandbox's evaluator, which follows the IAM User Guide). */
function decide(action: string, resource: string): string {
  const principal = { accountId: ACCOUNT, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ferry-deploy/s` };
  return evaluateIdentityPolicies(
    (role.Properties.Policies as { PolicyDocument: PolicyDocument }[]).map((p) => p.PolicyDocument),
    { action, resource, principal, keys: {} },
  );
}

/**
 * The Lambda actions ferry's deploy role needs, read from ferry itself: every LambdaPort call is
 * made through the real adapter and the commands it sends are collected. A call the adapter starts
 * making without the template granting it fails here, not as AccessDenied in a target account.
 */
const LAMBDA_ACTIONS = await collectLambdaActions();

async function collectLambdaActions(): Promise<string[]> {
  const mock = mockClient(LambdaClient);
  mock.onAnyCommand().resolves({});
  try {
    const port = createLambdaPort(new LambdaClient({ region: 'eu-west-1' }), { accountId: '2', region: 'eu-west-1' });
    const calls: Record<keyof LambdaPort, () => Promise<unknown>> = {
      getFunctionConfiguration: () => port.getFunctionConfiguration('f'),
      getAlias: () => port.getAlias('f', 'live'),
      listVersions: () => port.listVersions('f'),
      updateFunctionCode: () =>
        port.updateFunctionCode({ functionName: 'f', revisionId: 'r', code: { zipFile: new Uint8Array() } }),
      publishVersion: () =>
        port.publishVersion({ functionName: 'f', codeSha256: 'c', revisionId: 'r', description: 'd' }),
      createAlias: () => port.createAlias({ functionName: 'f', alias: 'live', version: '1' }),
      updateAlias: () => port.updateAlias({ functionName: 'f', alias: 'live', version: '1' }),
      listAliases: () => port.listAliases('f'),
      deleteVersion: () => port.deleteVersion('f', '1'),
      invoke: () => port.invoke({ functionName: 'f', qualifier: '2', payload: {} }),
    };
    for (const call of Object.values(calls)) await call();
    const names = mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    // IAM names the Invoke API's action InvokeFunction.
    const action = (name: string) => (name === 'InvokeCommand' ? 'InvokeFunction' : name.replace(/Command$/, ''));
    return [...new Set(names.map((name) => `lambda:${action(name)}`))].sort();
  } finally {
    mock.restore();
  }
}

/** The CloudWatch actions the deploy role needs, read from ferry's CloudWatch adapter the same way. */
const CLOUDWATCH_ACTIONS = await collectCloudWatchActions();

async function collectCloudWatchActions(): Promise<string[]> {
  const mock = mockClient(CloudWatchClient);
  mock.onAnyCommand().resolves({});
  try {
    const port = createCloudWatchPort(new CloudWatchClient({ region: 'eu-west-1' }), {
      accountId: '2',
      region: 'eu-west-1',
    });
    const calls: Record<keyof CloudWatchPort, () => Promise<unknown>> = {
      readAlarms: () => port.readAlarms(['orders-5xx']),
      readVersionSamples: () =>
        port.readVersionSamples({
          functionName: 'f',
          alias: 'live',
          versions: ['1', '2'],
          start: new Date('2026-11-23T08:00:00Z'),
          end: new Date('2026-11-23T08:05:00Z'),
        }),
    };
    for (const call of Object.values(calls)) await call();
    const names = mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    return [...new Set(names.map((name) => `cloudwatch:${name.replace(/Command$/, '')}`))].sort();
  } finally {
    mock.restore();
  }
}

describe('the deploy role’s trust policy', () => {
  it('trusts exactly the roles of ferry’s functions it is given, and only with the ExternalId', () => {
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(trust).toHaveLength(1);
    const [statement] = trust as [Statement];
    expect(statement.Effect).toBe('Allow');
    expect(asList(statement.Action)).toEqual(['sts:AssumeRole']);
    expect(statement.Principal).toEqual({ AWS: 'arn:aws:iam::111111111111:root' });
    expect(statement.Condition).toEqual({
      StringEquals: { 'sts:ExternalId': parameters.ExternalId },
      ArnEquals: {
        'aws:PrincipalArn': parameters.FerryRoleArns.split(','),
      },
    });
  });

  it('accepts only role ARNs as trusted roles, so a wildcard can never widen the trust', () => {
    const pattern = new RegExp(template.Parameters.FerryRoleArns.AllowedPattern);
    expect(pattern.test(parameters.FerryRoleArns)).toBe(true);
    for (const bad of [
      '*',
      'arn:aws:iam::111111111111:root',
      'arn:aws:iam::111111111111:role/*',
      'arn:aws:iam::*:role/x',
      '',
    ]) {
      expect(pattern.test(bad), bad).toBe(false);
    }
  });

  it('keeps the ExternalId out of the console and limits sessions to an hour', () => {
    expect(template.Parameters.ExternalId.NoEcho).toBe(true);
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.RoleName).toBe(parameters.RoleName);
  });
});

describe('the deploy role’s permissions', () => {
  it('ferry makes the Lambda calls a deployment needs (the list the template is checked against)', () => {
    expect(LAMBDA_ACTIONS).toEqual(
      expect.arrayContaining(['lambda:UpdateFunctionCode', 'lambda:PublishVersion', 'lambda:UpdateAlias']),
    );
  });

  it('allows only the Lambda calls ferry makes, and denies only outside this account and ferry’s artifacts', () => {
    const actions = new Set(allows.flatMap((s) => asList(s.Action)));
    expect([...actions].filter((a) => a.startsWith('lambda:')).sort()).toEqual(LAMBDA_ACTIONS);
    // CloudWatch: exactly what the traffic gates' adapter calls, nothing more.
    expect(CLOUDWATCH_ACTIONS).toEqual(['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData']);
    expect([...actions].filter((a) => a.startsWith('cloudwatch:')).sort()).toEqual(CLOUDWATCH_ACTIONS);
    expect([...actions].filter((a) => !a.startsWith('lambda:') && !a.startsWith('cloudwatch:')).sort()).toEqual([
      's3:GetObject',
      's3:GetObjectVersion',
    ]);
    const denies = permissions.filter((s) => s.Effect !== 'Allow');
    expect(denies.map((s) => [s.Action, s.NotResource])).toEqual([
      ['lambda:*', `arn:aws:lambda:*:${ACCOUNT}:function:*`],
      ['cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:*:${ACCOUNT}:alarm:*`],
      ['s3:*', `arn:aws:s3:::${parameters.ArtifactBucketName}/artifacts/*`],
    ]);
  });

  it('deploys the listed functions of this account, their versions and aliases, and nothing else', () => {
    for (const action of LAMBDA_ACTIONS.filter((a) => a !== 'lambda:DeleteFunction')) {
      for (const fn of ['orders-api', 'billing_worker']) {
        for (const arn of [
          `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${fn}`,
          `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${fn}:live`,
          `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${fn}:7`,
        ]) {
          expect(decide(action, arn), `${action} ${arn}`).toBe('Allow');
        }
      }
      // The same name in another account: denied even if that function's resource policy allowed it.
      expect(decide(action, 'arn:aws:lambda:eu-west-1:999999999999:function:orders-api'), action).toBe('Deny');
      expect(decide(action, `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:payments`), action).not.toBe('Allow');
    }
    expect(decide('lambda:GetFunction', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders-api`)).not.toBe('Allow');
  });

  it('deletes versions only, never a function itself, and only in this account', () => {
    expect(decide('lambda:DeleteFunction', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders-api:3`)).toBe('Allow');
    expect(decide('lambda:DeleteFunction', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:orders-api`)).not.toBe(
      'Allow',
    );
    expect(decide('lambda:DeleteFunction', 'arn:aws:lambda:eu-west-1:999999999999:function:orders-api:3')).toBe('Deny');
  });

  it('uses "*" only where AWS has no resource type (metric data)', () => {
    const star = allows.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    expect(star.sort()).toEqual(['cloudwatch:GetMetricData']);
  });

  it('reads only the named traffic alarms of this account', () => {
    for (const alarm of ['orders-5xx', 'orders p99']) {
      expect(decide('cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:${alarm}`)).toBe(
        'Allow',
      );
    }
    expect(decide('cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:other`)).not.toBe(
      'Allow',
    );
    expect(decide('cloudwatch:DescribeAlarms', 'arn:aws:cloudwatch:eu-west-1:999999999999:alarm:orders-5xx')).toBe(
      'Deny',
    );
    expect(new RegExp(template.Parameters.AlarmNames.AllowedPattern).test('*')).toBe(false);
  });

  it('reads only the artifacts of the apps deployed into this account, in ferry’s bucket', () => {
    const bucket = parameters.ArtifactBucketName;
    for (const action of ['s3:GetObject', 's3:GetObjectVersion']) {
      expect(decide(action, `arn:aws:s3:::${bucket}/artifacts/orders-api/41.zip`)).toBe('Allow');
      expect(decide(action, `arn:aws:s3:::${bucket}/artifacts/billing.worker/7.zip`)).toBe('Allow');
      expect(decide(action, `arn:aws:s3:::${bucket}/artifacts/payments/3.zip`)).not.toBe('Allow');
      expect(decide(action, `arn:aws:s3:::another-bucket/artifacts/orders-api/41.zip`)).toBe('Deny');
      expect(decide(action, `arn:aws:s3:::${bucket}/ledger/orders-api/current.json`)).toBe('Deny');
    }
    const pattern = new RegExp(template.Parameters.AppNames.AllowedPattern);
    expect(pattern.test('orders-api,billing.worker')).toBe(true);
    for (const bad of ['*', 'orders-*', 'orders/api', 'Orders', 'a,,b', '']) expect(pattern.test(bad), bad).toBe(false);
  });

  it('accepts only plain function names, so a wildcard can never widen the grant', () => {
    const pattern = new RegExp(template.Parameters.FunctionNames.AllowedPattern);
    expect(pattern.test('orders-api,billing_worker')).toBe(true);
    expect(pattern.test('orders-api')).toBe(true);
    for (const bad of ['*', 'orders-*', 'orders-api,*', 'arn:aws:lambda:eu-west-1:2:function:x', 'a,,b', 'a, b', '']) {
      expect(pattern.test(bad), bad).toBe(false);
    }
  });

  it('outputs the role ARN', () => {
    expect(template.Outputs.DeployRoleArn.Value).toEqual({ 'Fn::GetAtt': ['DeployRole', 'Arn'] });
  });
});
