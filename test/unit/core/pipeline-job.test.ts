import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { AccessError, ArtifactError, ConfigurationError, InputError } from '../../../src/core/errors.js';
import {
  CONTINUATION_TOKEN_MAX,
  type ContinuationState,
  classifyFailure,
  decodeContinuationToken,
  deriveBuildId,
  encodeContinuationToken,
  parsePipelineJob,
  parseUserParameters,
  readJobId,
  selectPipelineTargets,
} from '../../../src/core/pipeline-job.js';

const event = JSON.parse(readFileSync('test/fixtures/events/codepipeline-job.json', 'utf8')) as unknown;

const config = parseConfig({
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [
          { account: '222222222222', function: 'orders-api' },
          { account: '333333333333', function: 'orders-worker' },
        ],
      },
    },
  },
});

const state: ContinuationState = {
  build: '2026.11.22-7',
  codeSha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
  versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
  sizeBytes: 1234,
  fingerprint: 'abcdefabcdef',
  executionId: '7c4e2d1a-9b8f-4e6d-a1c2-3b4d5e6f7a8b',
  done: [
    { index: 0, status: 'deployed', version: '12', previousVersion: '11' },
    { index: 2, status: 'unchanged', version: '4' },
  ],
};

describe('parsePipelineJob', () => {
  it('reads the documented event shape, KMS key included', () => {
    const job = parsePipelineJob(event);
    expect(job).toMatchObject({
      jobId: '11111111-abcd-1111-abcd-111111abcdef',
      accountId: '111111111111',
      inputArtifacts: [
        {
          name: 'BuildOutput',
          bucket: 'codepipeline-eu-west-1-123456789012',
          key: 'billing-pipeline/BuildOutput/Xk3pQ9r.zip',
        },
      ],
      encryptionKey: { type: 'KMS' },
    });
    expect(job.continuationToken).toBeUndefined();
  });

  it('refuses a malformed event without quoting its credentials', () => {
    const broken = structuredClone(event) as { 'CodePipeline.job': { data: { artifactCredentials: unknown } } };
    broken['CodePipeline.job'].data.artifactCredentials = { accessKeyId: 'ASIASECRET' };
    expect(() => parsePipelineJob(broken)).toThrowError(/artifactCredentials: expected accessKeyId/);
    try {
      parsePipelineJob(broken);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('ASIASECRET');
    }
    expect(readJobId({ 'CodePipeline.job': { id: 'not-a-uuid' } })).toBeUndefined();
  });
});

describe('parseUserParameters', () => {
  it.each([
    ['{"app":"orders-api","stage":"dev"}', { app: 'orders-api', stage: 'dev' }],
    [
      '{"app":"orders-api","stage":"dev","targets":["orders-api","orders-api"],"path":"./dist/fn.zip","build":"42"}',
      { app: 'orders-api', stage: 'dev', targets: ['orders-api'], path: 'dist/fn.zip', build: '42' },
    ],
  ])('accepts %s', (text, expected) => {
    expect(parseUserParameters(text)).toEqual(expected);
  });

  it.each([
    [undefined, /are missing/],
    ['{"app":', /not valid JSON/],
    ['[1]', /not a JSON object/],
    ['{"app":"Orders","stage":"dev"}', /"app" must be an app name/],
    ['{"app":"orders-api","stage":"dev","targets":[]}', /"targets" must be a non-empty list/],
    ['{"app":"orders-api","stage":"dev","path":"../x.zip"}', /"path" must be a relative path/],
    ['{"app":"orders-api","stage":"dev","build":"no spaces"}', /"build" must be a build id/],
    ['{"app":"orders-api","stage":"dev","stgae":"x"}', /unknown key 'stgae'/],
  ])('refuses %s with the expected form', (text, problem) => {
    expect(() => parseUserParameters(text)).toThrowError(problem);
    expect(() => parseUserParameters(text)).toThrowError(/Expected JSON of the form \{"app": "<app>"/);
    expect(() => parseUserParameters(text)).toThrowError(ConfigurationError);
  });
});

describe('selectPipelineTargets', () => {
  it('selects by target id or function name, in configuration order', () => {
    const all = selectPipelineTargets(config, { app: 'orders-api', stage: 'dev' });
    expect(all.targets.map((t) => t.functionName)).toEqual(['orders-api', 'orders-worker']);
    const one = selectPipelineTargets(config, {
      app: 'orders-api',
      stage: 'dev',
      targets: ['333333333333/eu-west-1/orders-worker:live'],
    });
    expect(one.targets.map((t) => t.accountId)).toEqual(['333333333333']);
  });

  it.each([
    [{ app: 'payments', stage: 'dev' }, /No app 'payments'.*Known apps: orders-api/],
    [{ app: 'orders-api', stage: 'qa' }, /No stage 'qa'. Stages: dev, prod/],
    [{ app: 'orders-api', stage: 'prod' }, /no targets in stage 'prod'/],
    [{ app: 'orders-api', stage: 'dev', targets: ['billing'] }, /'billing'.*Its targets: 222222222222\/eu-west-1/],
  ])('names what exists when %j does not', (params, message) => {
    expect(() => selectPipelineTargets(config, params)).toThrowError(message);
  });
});

describe('continuation token', () => {
  it('round-trips', () => {
    const token = encodeContinuationToken(state);
    expect(token).toMatch(/^ferry1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/);
    expect(decodeContinuationToken(token)).toEqual(state);
  });

  it('round-trips any state that fits', () => {
    const finished = fc.uniqueArray(
      fc.record({
        index: fc.nat(200),
        status: fc.constantFrom('deployed' as const, 'unchanged' as const),
        version: fc.integer({ min: 1, max: 99_999 }).map(String),
        previousVersion: fc.option(fc.integer({ min: 1, max: 99_999 }).map(String), { nil: undefined }),
      }),
      { selector: (t) => t.index, maxLength: 40 },
    );
    fc.assert(
      fc.property(finished, (done) => {
        const s = {
          ...state,
          done: done.map(({ previousVersion, ...t }) => (previousVersion ? { ...t, previousVersion } : t)),
        };
        const token = encodeContinuationToken(s);
        expect(token.length).toBeLessThanOrEqual(CONTINUATION_TOKEN_MAX);
        expect(decodeContinuationToken(token)).toEqual(s);
      }),
    );
  });

  it('refuses a garbled, altered or foreign token clearly', () => {
    const token = encodeContinuationToken(state);
    const flipped = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    for (const bad of [flipped, 'A continuation token if continuing job', `ferry2.${token.slice(7)}`, `${token}.x`]) {
      expect(() => decodeContinuationToken(bad)).toThrowError(/continuation token is not one this version/);
      expect(() => decodeContinuationToken(bad)).toThrowError(InputError);
    }
  });

  it('refuses to write a token CodePipeline would reject', () => {
    const many = Array.from({ length: 300 }, (_, index) => ({
      index,
      status: 'deployed' as const,
      version: '12345',
      previousVersion: '12344',
    }));
    expect(() => encodeContinuationToken({ ...state, done: many })).toThrowError(/above CodePipeline's 2048/);
  });
});

describe('deriveBuildId and classifyFailure', () => {
  it('derives a sortable build id from the start time and the execution id', () => {
    expect(deriveBuildId(new Date('2026-11-22T10:15:00.123Z'), '7c4e2d1a-9b8f-4e6d')).toBe('20261122T101500-7c4e2d1a');
  });

  it.each([
    [new ConfigurationError('X', 'x'), 'ConfigurationError'],
    [new InputError('X', 'x'), 'ConfigurationError'],
    [new AccessError('X', 'x'), 'PermissionError'],
    [new ArtifactError('X', 'x'), 'JobFailed'],
    [new TypeError('x'), 'JobFailed'],
  ])('%s → %s', (error, type) => {
    expect(classifyFailure(error)).toBe(type);
  });
});
