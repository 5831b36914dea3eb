import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { listDeployRoleArns, parseConfig } from '../../../src/core/config.js';
import { ConfigurationError } from '../../../src/core/errors.js';

const valid = () => ({
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-external-id',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: '222222222222', function: 'orders-api' }],
        staging: [{ account: '333333333333', function: 'orders-api', alias: 'blue', region: 'us-east-1' }],
        prod: [{ account: '444444444444', function: 'orders', role: 'arn:aws:iam::444444444444:role/custom-deployer' }],
      },
      promotions: [{ from: 'dev', to: 'staging', minSoakMinutes: 60 }],
    },
  },
});

function problemsOf(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseConfig', () => {
  it('resolves targets with defaults: region, alias, role ARN from the role name, ExternalId', () => {
    const config = parseConfig(valid());
    const [dev] = config.apps['orders-api']?.targets.dev ?? [];
    expect(dev).toEqual({
      id: '222222222222/eu-west-1/orders-api:live',
      stage: 'dev',
      accountId: '222222222222',
      region: 'eu-west-1',
      functionName: 'orders-api',
      alias: 'live',
      roleArn: 'arn:aws:iam::222222222222:role/ferry-deploy',
      externalId: 'ferry-external-id',
    });
    expect(config.apps['orders-api']?.targets.staging?.[0]?.region).toBe('us-east-1');
    expect(config.apps['orders-api']?.targets.prod?.[0]?.roleArn).toBe(
      'arn:aws:iam::444444444444:role/custom-deployer',
    );
  });

  it('lets uploads reach the first stage only by default, never the last', () => {
    const config = parseConfig(valid());
    expect(config.stages.map((s) => [s.name, s.acceptsUploads])).toEqual([
      ['dev', true],
      ['staging', false],
      ['prod', false],
    ]);
  });

  it('lets the last stage accept uploads only when configured explicitly', () => {
    const raw = valid();
    raw.stages = [{ name: 'dev' }, { name: 'staging' }, { name: 'prod', acceptsUploads: true } as { name: string }];
    expect(parseConfig(raw).stages.at(-1)?.acceptsUploads).toBe(true);
  });

  it('returns a frozen object', () => {
    const config = parseConfig(valid());
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.apps['orders-api']?.targets.dev)).toBe(true);
  });

  it.each([
    [{ ...valid(), artifactBuckt: 'x' }, 'artifactBuckt'],
    [{ ...valid(), region: 'Ireland' }, 'region: an AWS Region'],
    [{ ...valid(), stages: [] }, 'stages'],
    [{ ...valid(), sessionDurationSeconds: 60 }, 'sessionDurationSeconds'],
  ])('names the bad field: %#', (raw, field) => {
    expect(problemsOf(raw)).toContain(field);
  });

  it('rejects unknown keys inside a target, naming the path', () => {
    const raw = valid();
    (raw.apps['orders-api'].targets.dev[0] as Record<string, unknown>).fuction = 'typo';
    expect(problemsOf(raw)).toMatch(/apps\.orders-api\.targets\.dev\[0\]/);
  });

  it('rejects an account id that is not 12 digits', () => {
    const raw = valid();
    raw.apps['orders-api'].targets.dev[0] = { account: '2222', function: 'orders-api' };
    expect(problemsOf(raw)).toMatch(/account: a 12-digit AWS account id/);
  });

  it('rejects a role ARN in another account than its target', () => {
    const raw = valid();
    raw.apps['orders-api'].targets.prod[0] = {
      account: '444444444444',
      function: 'orders',
      role: 'arn:aws:iam::555555555555:role/x',
    };
    expect(problemsOf(raw)).toMatch(/role ARN is in account 555555555555 but the target is account 444444444444/);
  });

  it('rejects targets of an unknown stage and backwards promotions', () => {
    const raw = valid();
    (raw.apps['orders-api'].targets as Record<string, unknown>).qa = [{ account: '222222222222', function: 'x' }];
    raw.apps['orders-api'].promotions = [{ from: 'staging', to: 'dev', minSoakMinutes: 0 }];
    const message = problemsOf(raw);
    expect(message).toMatch(/targets\.qa: unknown stage/);
    expect(message).toMatch(/promotions go forward/);
  });

  it('rejects one function in two stages', () => {
    const raw = valid();
    raw.apps['orders-api'].targets.staging[0] = {
      account: '222222222222',
      function: 'orders-api',
      alias: 'x',
      region: 'eu-west-1',
    };
    expect(problemsOf(raw)).toMatch(/already a target of app orders-api, stage dev/);
  });

  it('lists every deploy role ARN once, for the IAM policy', () => {
    expect(listDeployRoleArns(parseConfig(valid()))).toEqual([
      'arn:aws:iam::222222222222:role/ferry-deploy',
      'arn:aws:iam::333333333333:role/ferry-deploy',
      'arn:aws:iam::444444444444:role/custom-deployer',
    ]);
  });
});

describe('parseConfig refuses what AWS or ferry would refuse later', () => {
  it('refuses a session longer than role chaining allows, saying why', () => {
    expect(parseConfig({ ...valid(), sessionDurationSeconds: 3600 }).sessionDurationSeconds).toBe(3600);
    const message = problemsOf({ ...valid(), sessionDurationSeconds: 3601 });
    expect(message).toContain('sessionDurationSeconds: expected at most 3600');
    expect(message).toContain('role chaining');
  });

  it.each([
    ['', 'must not be empty'],
    ['ledger/', "overlaps ferry's own 'ledger/'"],
    ['ledger/artifacts/', "overlaps ferry's own 'ledger/'"],
    ['leases/', "overlaps ferry's own 'leases/'"],
  ])('refuses the artifact prefix %j', (artifactPrefix, expected) => {
    expect(problemsOf({ ...valid(), artifactPrefix })).toContain(
      `artifactPrefix: ${expected === 'must not be empty' ? expected : `'${artifactPrefix}' ${expected}`}`,
    );
  });

  it('accepts artifact prefixes beside the ledger and leases', () => {
    expect(parseConfig({ ...valid(), artifactPrefix: 'ledgers/' }).artifactPrefix).toBe('ledgers/');
    expect(parseConfig({ ...valid(), artifactPrefix: 'ci/builds/' }).artifactPrefix).toBe('ci/builds/');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as an app name, from JSON or YAML', (name) => {
    const text = `{"artifactBucket":"ferry-artifacts-111111111111","region":"eu-west-1","stages":[{"name":"dev"}],"apps":{"${name}":{"targets":{"dev":[{"account":"222222222222","function":"f"}]}}}}`;
    expect(problemsOf(JSON.parse(text))).toContain(`apps.${name}: '${name}' is a reserved name`);
    expect(problemsOf(parseYaml(text))).toContain(`apps.${name}: '${name}' is a reserved name`);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as a stage key under targets', (name) => {
    const text = `{"artifactBucket":"ferry-artifacts-111111111111","region":"eu-west-1","stages":[{"name":"dev"}],"apps":{"a":{"targets":{"dev":[{"account":"222222222222","function":"f"}],"${name}":[{"account":"222222222222","function":"g"}]}}}}`;
    expect(problemsOf(JSON.parse(text))).toContain(`apps.a.targets.${name}: '${name}' is a reserved name`);
  });

  it('refuses two promotion rules for one pair', () => {
    const raw = valid();
    raw.apps['orders-api'].promotions = [
      { from: 'dev', to: 'staging', minSoakMinutes: 60 },
      { from: 'staging', to: 'prod', minSoakMinutes: 0 },
      { from: 'dev', to: 'staging', minSoakMinutes: 0 },
    ];
    expect(problemsOf(raw)).toContain(
      'apps.orders-api.promotions[2]: a second rule for dev → staging (the first is promotions[0])',
    );
  });

  it('refuses a promotion into a stage where the app has no targets', () => {
    const raw = valid();
    const { prod: _, ...withoutProd } = raw.apps['orders-api'].targets;
    const app = { targets: withoutProd, promotions: [{ from: 'staging', to: 'prod', minSoakMinutes: 0 }] };
    expect(problemsOf({ ...raw, apps: { 'orders-api': app } })).toContain(
      "apps.orders-api.promotions[0].to: app orders-api has no targets in stage 'prod'",
    );
  });
});

describe('parseConfig across apps', () => {
  it('rejects one function claimed by two apps', () => {
    const raw = valid() as Record<string, unknown> & { apps: Record<string, unknown> };
    raw.apps['orders-worker'] = { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } };
    expect(() => parseConfig(raw)).toThrowError(/already a target of app orders-api, stage dev/);
  });

  it('finds nothing for names that are Object.prototype members', () => {
    const config = parseConfig(valid());
    expect(config.apps.constructor).toBeUndefined();
    expect(config.apps.toString).toBeUndefined();
    expect(config.apps['orders-api']?.targets.constructor).toBeUndefined();
  });
});
