import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import type { PromoteRequest, PromotionResult } from '../../../src/engine/promote.js';
import type { RollbackRequest, RollbackResult } from '../../../src/engine/rollback.js';
import type { StatusReport } from '../../../src/engine/status.js';
import { createHarness } from './cli-harness.js';

const API = '333333333333/eu-west-1/orders-api:live';
const WORKER = '333333333333/eu-west-1/orders-worker:live';

function promotion(status: PromotionResult['status'], extra: Partial<PromotionResult> = {}): PromotionResult {
  return {
    app: 'orders-api',
    from: 'dev',
    to: 'staging',
    status,
    build: '42',
    reason: `${status} reason`,
    checks: [
      { name: 'candidate', passed: true, detail: 'dev offers build 42' },
      { name: 'soak', passed: false, detail: '42 has soaked 5 of 60 minutes in dev' },
    ],
    ...extra,
  };
}

describe('ferry promote', () => {
  it('asks the engine for a cli promotion with --build, --force and --dry-run passed through', async () => {
    const harness = createHarness();
    const requests: PromoteRequest[] = [];
    harness.engine.promote = async (_runtime, _log, request) => {
      requests.push(request);
      return promotion('planned');
    };
    const run = await harness.run(
      'promote',
      '--app',
      'orders-api',
      '--from',
      'dev',
      '--to',
      'staging',
      '--build',
      '42',
      '--force',
      '--dry-run',
    );
    expect(run.code).toBe(0);
    expect(requests).toEqual([
      {
        app: 'orders-api',
        from: 'dev',
        to: 'staging',
        trigger: 'cli',
        build: '42',
        force: true,
        dryRun: true,
        onTargetDone: expect.any(Function),
      },
    ]);
    expect(run.stdout).toMatch(/^soak +FAIL +42 has soaked 5 of 60 minutes in dev$/m);
    expect(run.stdout).toContain('orders-api dev → staging: planned: planned reason');
  });

  it.each([
    ['promoted', 0],
    ['planned', 0],
    ['nothing-to-promote', 0],
    ['waiting', 3],
    ['failed', 1],
  ] as const)('exits %s → %i', async (status, code) => {
    const harness = createHarness();
    harness.engine.promote = async () => promotion(status);
    const run = await harness.run('promote', '--app', 'orders-api', '--from', 'dev', '--to', 'staging', '--json');
    expect(run.code).toBe(code);
    expect(run.json()).toMatchObject({ status, app: 'orders-api', checks: [{ name: 'candidate' }, { name: 'soak' }] });
  });

  it('reports an engine refusal (exit 3) as JSON on stdout and a message on stderr', async () => {
    const harness = createHarness();
    harness.engine.promote = async () => {
      throw new InputError('PROMOTION_INVALID', "Cannot promote orders-api from 'staging' to 'dev'.");
    };
    const run = await harness.run('promote', '--app', 'orders-api', '--from', 'staging', '--to', 'dev', '--json');
    expect(run.code).toBe(3);
    expect(run.stderr).toBe("ferry: Cannot promote orders-api from 'staging' to 'dev'. [PROMOTION_INVALID]\n");
    expect(run.json()).toEqual({
      status: 'error',
      exitCode: 3,
      error: {
        name: 'InputError',
        code: 'PROMOTION_INVALID',
        kind: 'input',
        message: "Cannot promote orders-api from 'staging' to 'dev'.",
        context: {},
      },
    });
  });
});

describe('ferry rollback', () => {
  const result = (status: RollbackResult['status']): RollbackResult => ({
    app: 'orders-api',
    stage: 'staging',
    status,
    fromBuild: '42',
    toBuild: '41',
    codeSha256: 'c2hh',
    reason: 'rolling staging back from 42 to 41',
    targets: [
      {
        targetId: API,
        fromVersion: '7',
        toVersion: '6',
        action: 'move-alias',
        status: status === 'failed' ? 'failed' : 'planned',
      },
      { targetId: WORKER, fromVersion: '6', toVersion: '6', action: 'unchanged', status: 'unchanged' },
    ],
  });

  it('prints the plan with --dry-run and passes --to-build through', async () => {
    const harness = createHarness();
    const requests: RollbackRequest[] = [];
    harness.engine.rollback = async (_runtime, _log, request) => {
      requests.push(request);
      return result('planned');
    };
    const run = await harness.run(
      'rollback',
      '--app',
      'orders-api',
      '--stage',
      'staging',
      '--to-build',
      '41',
      '--dry-run',
    );
    expect(run.code).toBe(0);
    expect(requests).toEqual([{ app: 'orders-api', stage: 'staging', trigger: 'cli', toBuild: '41', dryRun: true }]);
    expect(run.stdout).toMatch(new RegExp(`^${API} +7 +6 +planned +-$`, 'm'));
    expect(run.stdout).toContain('orders-api staging 42 → 41: planned: rolling staging back from 42 to 41');
  });

  it('passes --to-version through and exits 1 when an alias move failed', async () => {
    const harness = createHarness();
    const requests: RollbackRequest[] = [];
    harness.engine.rollback = async (_runtime, _log, request) => {
      requests.push(request);
      return result('failed');
    };
    const run = await harness.run(
      'rollback',
      '--app',
      'orders-api',
      '--stage',
      'staging',
      '--to-version',
      '6',
      '--json',
    );
    expect(run.code).toBe(1);
    expect(requests[0]).toMatchObject({ toVersion: '6' });
    expect(requests[0]).not.toHaveProperty('toBuild');
    expect(run.json()).toMatchObject({
      status: 'failed',
      toBuild: '41',
      targets: [{ targetId: API }, { targetId: WORKER }],
    });
  });
});

describe('ferry status', () => {
  const report: StatusReport = {
    generatedAt: '2026-11-22T08:00:00.000Z',
    rows: [
      {
        app: 'orders-api',
        stage: 'dev',
        build: '42',
        ageSeconds: 7260,
        versions: { 'x:live': '4' },
        checksumMatches: true,
        drift: [],
        targets: [],
      },
      {
        app: 'orders-api',
        stage: 'staging',
        build: '41',
        ageSeconds: 30,
        versions: { [API]: '7', [WORKER]: '6' },
        checksumMatches: false,
        drift: [`${API}: alias points at 5, the ledger says 7`],
        targets: [
          {
            targetId: API,
            account: '333333333333',
            region: 'eu-west-1',
            function: 'orders-api',
            alias: 'live',
            version: '7',
            drift: ['alias points at 5, the ledger says 7'],
          },
        ],
      },
    ],
  };

  it('renders apps × stages with build, versions, age and a drift mark, then the findings, and exits 6 on drift', async () => {
    const harness = createHarness();
    const requests: unknown[] = [];
    harness.engine.readStatus = async (_runtime, request) => {
      requests.push(request);
      return report;
    };
    const run = await harness.run('status');
    expect(run.code).toBe(6);
    expect(requests).toEqual([{}]);
    expect(run.stdout).toBe(
      'APP         DEV             STAGING\n' +
        'orders-api  42 v4 2h01m ok  41 v7,6 30s DRIFT\n' +
        '\n' +
        `  orders-api staging ${API}: alias points at 5, the ledger says 7\n` +
        '\n' +
        '1 app stage(s) drifted.\n',
    );
  });

  it('prints the engine report as JSON with --json', async () => {
    const harness = createHarness();
    harness.engine.readStatus = async () => report;
    const run = await harness.run('status', '--json');
    expect(run.code).toBe(6);
    expect(run.json()).toEqual({ ...report, exitCode: 6 });
  });

  it('rejects an unknown app before reading any account (exit 3)', async () => {
    const run = await createHarness().run('status', '--app', 'nope');
    expect(run.code).toBe(3);
  });
});

describe('ferry history', () => {
  it('asks for the stage and limit given and prints one row per attempt', async () => {
    const harness = createHarness();
    const requests: unknown[] = [];
    harness.engine.readHistory = async (_runtime, request) => {
      requests.push(request);
      return [
        {
          schema: 1,
          id: 'e1',
          app: 'orders-api',
          stage: 'dev',
          build: '41',
          targets: [],
          trigger: 'upload',
          caller: 'arn:aws:sts::111111111111:assumed-role/ferry-execution/ferry-lambda',
          startedAt: '2026-11-22T08:00:00.000Z',
          endedAt: '2026-11-22T08:00:01.000Z',
          outcome: 'skipped',
          reason: 'build 41 is older than 42',
          code: 'BUILD_OLDER_THAN_CURRENT',
        },
      ];
    };
    const run = await harness.run('history', '--app', 'orders-api', '--stage', 'dev', '--limit', '5');
    expect(run.code).toBe(0);
    expect(requests).toEqual([{ app: 'orders-api', stage: 'dev', limit: 5 }]);
    expect(run.stdout).toMatch(
      /^2026-11-22T08:00:00.000Z +dev +41 +upload +skipped +- +ferry-execution\/ferry-lambda +build 41 is older than 42 \[BUILD_OLDER_THAN_CURRENT\]$/m,
    );
  });
});
