import { describe, expect, it } from 'vitest';
import type { StageStatusRow, StatusReport, TargetStatusRow } from '../../../src/engine/status.js';
import { createHarness } from './cli-harness.js';

const DEV = '222222222222/eu-west-1/orders-api:live';
const STAGING = '333333333333/eu-west-1/orders-api:live';

function target(id: string, extra: Partial<TargetStatusRow> = {}): TargetStatusRow {
  const [account = '', region = '', fn = ''] = id.split('/');
  return {
    targetId: id,
    account,
    region,
    function: fn.split(':')[0] ?? '',
    alias: 'live',
    version: '4',
    expectedVersion: '4',
    codeSha256: 'c2hh',
    checksumMatches: true,
    drift: [],
    ...extra,
  };
}

function row(stage: string, targets: TargetStatusRow[], extra: Partial<StageStatusRow> = {}): StageStatusRow {
  return {
    app: 'orders-api',
    stage,
    build: '42',
    ageSeconds: 90,
    versions: Object.fromEntries(targets.map((t) => [t.targetId, t.version])),
    checksumMatches: targets.every((t) => t.checksumMatches === true),
    drift: targets.flatMap((t) => t.drift.map((d) => `${t.targetId}: ${d}`)),
    targets,
    ...extra,
  };
}

const report = (...rows: StageStatusRow[]): StatusReport => ({ generatedAt: '2026-11-22T08:00:00.000Z', rows });

async function status(r: StatusReport, env: NodeJS.ProcessEnv = {}, ...argv: string[]) {
  const harness = createHarness();
  harness.env = { ...harness.env, ...env };
  harness.engine.readStatus = async () => r;
  return harness.run('status', ...argv);
}

describe('ferry status exit codes', () => {
  it('exits 0 when every target was read and serves what the ledger records', async () => {
    const run = await status(report(row('dev', [target(DEV)])));
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('APP         DEV\norders-api  42 v4 1m30s ok\n');
  });

  it('shows an unreadable target as UNREADABLE with the reason, and exits with the reason’s code (4: access)', async () => {
    const unreadable = target(STAGING, {
      error: 'ASSUME_ROLE_FAILED: ferry could not assume arn:aws:iam::333333333333:role/ferry-deploy',
      errorCode: 'ASSUME_ROLE_FAILED',
      errorKind: 'access',
      checksumMatches: undefined,
    });
    const { version: _v, expectedVersion: _e, codeSha256: _c, ...withoutLive } = unreadable;
    const run = await status(report(row('dev', [target(DEV)]), row('staging', [withoutLive])));
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/^orders-api +42 v4 1m30s ok +42 UNREADABLE$/m);
    expect(run.stdout).not.toContain('DRIFT');
    expect(run.stdout).toContain(
      `  orders-api staging ${STAGING}: unreadable: ASSUME_ROLE_FAILED: ferry could not assume arn:aws:iam::333333333333:role/ferry-deploy`,
    );
    expect(run.stdout).toContain('1 target(s) unreadable');
  });

  it('exits 5 when a target could not be read because of throttling, and 1 for an unclassified error', async () => {
    const throttled = target(DEV, { error: 'throttled', errorKind: 'throttled', checksumMatches: undefined });
    expect((await status(report(row('dev', [throttled])))).code).toBe(5);
    const odd = target(DEV, { error: 'Error: socket hang up', errorCode: 'Error', checksumMatches: undefined });
    expect((await status(report(row('dev', [odd])))).code).toBe(1);
  });

  it('points at ferry adopt when a drifted stage was never recorded by ferry', async () => {
    const never = target(STAGING, {
      expectedVersion: undefined,
      checksumMatches: undefined,
      drift: ['alias live points at version 1, but the ledger records no build here'],
    });
    const { build: _b, ageSeconds: _a, ...unrecorded } = row('staging', [never]);
    const run = await status(report(row('dev', [target(DEV)]), unrecorded));
    expect(run.code).toBe(6);
    expect(run.stdout).toMatch(/^orders-api +42 v4 1m30s ok +none v4 DRIFT$/m);
    expect(run.stdout).toContain('1 never deployed by ferry: `ferry adopt` records what they serve');
  });
});

describe('ferry status views', () => {
  const drifted = target(STAGING, {
    version: '5',
    expectedVersion: '7',
    checksumMatches: false,
    drift: ['alias live points at version 5, the ledger says 7'],
  });
  const r = report(row('dev', [target(DEV, { liveBuild: '42' })]), row('staging', [drifted]));

  it('--wide shows one row per target with live and recorded versions and the reason', async () => {
    const run = await status(r, {}, '--wide');
    expect(run.code).toBe(6);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^APP +STAGE +TARGET +LIVE BUILD +VERSION +LEDGER VERSION +LEDGER BUILD +AGE +STATE +DETAIL$/,
    );
    expect(lines[1]).toMatch(new RegExp(`^orders-api +dev +${DEV} +42 +4 +4 +42 +1m30s +ok +-$`));
    expect(lines[2]).toMatch(
      new RegExp(
        `^orders-api +staging +${STAGING} +- +5 +7 +42 +1m30s +DRIFT +alias live points at version 5, the ledger says 7$`,
      ),
    );
  });

  it('--app shows the per-target detail of that app', async () => {
    const run = await status(r, {}, '--app', 'orders-api');
    expect(run.stdout.split('\n')[0]).toMatch(/^APP +STAGE +TARGET/);
  });

  it('cuts long cells and lines to the terminal width (COLUMNS), ending them in …', async () => {
    for (const [argv, width] of [
      [[], 40],
      [['--wide'], 100],
    ] as const) {
      const run = await status(r, { COLUMNS: String(width) }, ...argv);
      const lines = run.stdout.trimEnd().split('\n');
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
      expect(run.stdout).toContain('…');
      expect(run.stdout).not.toContain('the ledger says 7');
      const full = await status(r, {}, ...argv);
      expect(full.stdout).toContain('the ledger says 7');
    }
  });

  it('colours marks only with FORCE_COLOR or a terminal, and never with NO_COLOR', async () => {
    const plain = await status(r);
    expect(plain.stdout).not.toContain('\u001b[');
    const coloured = await status(r, { FORCE_COLOR: '1' });
    expect(coloured.stdout).toContain('\u001b[33mDRIFT\u001b[39m');
    expect(coloured.stdout).toContain('\u001b[32mok\u001b[39m');
    const refused = await status(r, { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(refused.stdout).not.toContain('\u001b[');
  });
});
