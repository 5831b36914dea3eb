/**
 * templates/target-account-role.yml: the deploy role each target account creates. Checks the trust
 * policy and every permission after evaluating the template's intrinsics for sample parameters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createLambdaPort, type LambdaPort } from '../../src/aws/lambda.js';
import { asList, evaluate, type Loose, parseTemplate } from './cloudformation.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const template = parseTemplate(readFileSync(path.join(ROOT, 'templates/target-account-role.yml'), 'utf8')) as Loose;

const parameters = {
  FerryRoleArn: 'arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-exec',
  ExternalId: 'ferry-test-external-id',
  FunctionNames: 'orders-api,billing_worker',
  ArtifactBucketName: 'ferry-artifacts-111111111111-eu-west-1',
  ArtifactPrefix: 'artifacts/',
  AlarmNames: 'orders-5xx,orders p99',
  RoleName: 'ferry-deploy',
};

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Principal?: Loose;
  Condition?: Loose;
};

const role = evaluate(template.Resources.DeployRole, { parameters, accountId: '222222222222' }) as Record<
  string,
  Loose
>;
const trust = role.Properties.AssumeRolePolicyDocument.Statement as Statement[];
const permissions = (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
  (p) => p.PolicyDocument.Statement,
);

function grantsFor(action: string): string[] {
  return permissions.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));
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

describe('the deploy role’s trust policy', () => {
  it('trusts only ferry’s execution role and its traffic-tick role, and only with the ExternalId', () => {
    expect(role.Type).toBe('AWS::IAM::Role');
    expect(trust).toHaveLength(1);
    const [statement] = trust as [Statement];
    expect(statement.Effect).toBe('Allow');
    expect(asList(statement.Action)).toEqual(['sts:AssumeRole']);
    expect(statement.Principal).toEqual({ AWS: 'arn:aws:iam::111111111111:root' });
    expect(statement.Condition).toEqual({
      StringEquals: { 'sts:ExternalId': parameters.ExternalId },
      ArnEquals: {
        'aws:PrincipalArn': [parameters.FerryRoleArn, 'arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-traffic'],
      },
    });
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

  it('allows only the Lambda calls ferry makes, and nothing is denied by accident', () => {
    const actions = new Set(permissions.flatMap((s) => asList(s.Action)));
    expect([...actions].filter((a) => a.startsWith('lambda:')).sort()).toEqual(LAMBDA_ACTIONS);
    expect([...actions].filter((a) => !a.startsWith('lambda:')).sort()).toEqual([
      'cloudwatch:DescribeAlarms',
      'cloudwatch:GetMetricData',
      's3:GetObject',
      's3:GetObjectVersion',
    ]);
    for (const s of permissions) expect(s.Effect).toBe('Allow');
  });

  it('scopes the deploy calls to the listed functions, their versions and aliases', () => {
    const functions = ['orders-api', 'billing_worker'];
    const unqualified = functions.map((f) => `arn:aws:lambda:*:*:function:${f}`);
    const qualified = functions.map((f) => `arn:aws:lambda:*:*:function:${f}:*`);
    for (const action of LAMBDA_ACTIONS.filter((a) => a !== 'lambda:DeleteFunction' && a !== 'lambda:InvokeFunction')) {
      expect(grantsFor(action).sort(), action).toEqual([...unqualified, ...qualified].sort());
    }
  });

  it('deletes versions only, never a function itself', () => {
    expect(grantsFor('lambda:DeleteFunction').sort()).toEqual([
      'arn:aws:lambda:*:*:function:billing_worker:*',
      'arn:aws:lambda:*:*:function:orders-api:*',
    ]);
  });

  it('uses "*" only where AWS has no resource type (metric data)', () => {
    const star = permissions.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action));
    expect(star.sort()).toEqual(['cloudwatch:GetMetricData']);
  });

  it('reads only the named traffic alarms, and invokes only the listed functions (hooks)', () => {
    expect(grantsFor('cloudwatch:DescribeAlarms')).toEqual([
      'arn:aws:cloudwatch:*:*:alarm:orders-5xx',
      'arn:aws:cloudwatch:*:*:alarm:orders p99',
    ]);
    expect(grantsFor('lambda:InvokeFunction').sort()).toEqual(
      ['orders-api', 'billing_worker']
        .flatMap((f) => [`arn:aws:lambda:*:*:function:${f}`, `arn:aws:lambda:*:*:function:${f}:*`])
        .sort(),
    );
    expect(new RegExp(template.Parameters.AlarmNames.AllowedPattern).test('*')).toBe(false);
  });

  it('reads artifacts only under the artifact prefix of ferry’s bucket', () => {
    const expected = [`arn:aws:s3:::${parameters.ArtifactBucketName}/artifacts/*`];
    expect(grantsFor('s3:GetObject')).toEqual(expected);
    expect(grantsFor('s3:GetObjectVersion')).toEqual(expected);
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
