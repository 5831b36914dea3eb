import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBuilds } from '../../../src/core/artifact-key.js';
import type { CurrentState } from '../../../src/core/ledger-model.js';
import { decideReleaseOrder, decideSkipByBuild } from '../../../src/core/release-order.js';

const current = (build: string, extra: Partial<CurrentState> = {}): CurrentState => ({
  schema: 1,
  app: 'orders-api',
  stage: 'dev',
  build,
  codeSha256: `sha-${build}`,
  liveSince: '2026-11-22T08:00:00.000Z',
  targets: {},
  lastEntryId: 'e',
  updatedAt: '2026-11-22T08:00:00.000Z',
  ...extra,
});
const ask = (build: string, trigger: 'upload' | 'schedule' | 'cli' = 'upload', codeSha256 = `sha-${build}`) => ({
  stage: 'dev',
  build,
  codeSha256,
  trigger,
});

describe('decideReleaseOrder', () => {
  it.each([
    ['no build yet', undefined, '1', 'deploy'],
    ['a newer build', current('41'), '42', 'deploy'],
    ['the same build again (re-delivery)', current('42'), '42', 'deploy'],
    ['an older build', current('42'), '41', 'skip'],
    ['natural order, not text order', current('9'), '10', 'deploy'],
    ['dotted versions', current('1.2.10'), '1.2.9', 'skip'],
  ] as const)('%s', (_name, state, build, action) => {
    expect(decideReleaseOrder(state, ask(build)).action).toBe(action);
  });

  it('refuses an older build with the reason naming both builds', () => {
    const decision = decideReleaseOrder(current('42'), ask('41'));
    expect(decision).toMatchObject({ action: 'skip', code: 'BUILD_OLDER_THAN_CURRENT' });
    expect(decision.reason).toMatch(/41 is older than 42/);
  });

  it('marks the same build as a re-delivery', () => {
    expect(decideReleaseOrder(current('42'), ask('42'))).toMatchObject({ action: 'deploy', redelivery: true });
  });

  it('skips the same build id with different bytes (builds are immutable)', () => {
    expect(decideReleaseOrder(current('42'), ask('42', 'upload', 'other'))).toMatchObject({
      action: 'skip',
      code: 'BUILD_CHECKSUM_CHANGED',
    });
  });

  it('after a rollback, a late upload or schedule of a rolled-back build is skipped, the CLI may redeploy it', () => {
    const state = current('41', { rolledBackFrom: '43' });
    expect(decideReleaseOrder(state, ask('42'))).toMatchObject({ action: 'skip', code: 'BUILD_ROLLED_BACK' });
    expect(decideReleaseOrder(state, ask('43', 'schedule'))).toMatchObject({ action: 'skip' });
    expect(decideReleaseOrder(state, ask('43', 'cli')).action).toBe('deploy');
    expect(decideReleaseOrder(state, ask('44')).action).toBe('deploy');
  });

  it('never deploys a build older than the current one (property)', () => {
    const build = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/);
    fc.assert(
      fc.property(build, build, (running, incoming) => {
        const decision = decideReleaseOrder(current(running), ask(incoming));
        if (compareBuilds(incoming, running) < 0) expect(decision.action).toBe('skip');
        else expect(decision.action).toBe('deploy');
      }),
    );
  });
});

describe('decideSkipByBuild', () => {
  const current = {
    schema: 1 as const,
    app: 'orders-api',
    stage: 'dev',
    build: '10',
    codeSha256: 'abc',
    liveSince: '2026-11-22T00:00:00.000Z',
    targets: {},
    lastEntryId: 'e',
    updatedAt: '2026-11-22T00:00:00.000Z',
  };

  it.each([
    ['9', 'BUILD_OLDER_THAN_CURRENT'],
    ['10', undefined],
    ['11', undefined],
  ])('build %s against 10 → %s', (build, code) => {
    expect(decideSkipByBuild(current, { stage: 'dev', build, trigger: 'upload' })?.code).toBe(code);
  });

  it('skips builds up to the one a stage was rolled back from, except from the CLI', () => {
    const rolledBack = { ...current, rolledBackFrom: '12' };
    expect(decideSkipByBuild(rolledBack, { stage: 'dev', build: '12', trigger: 'upload' })?.code).toBe(
      'BUILD_ROLLED_BACK',
    );
    expect(decideSkipByBuild(rolledBack, { stage: 'dev', build: '12', trigger: 'cli' })).toBeUndefined();
    expect(decideSkipByBuild(rolledBack, { stage: 'dev', build: '13', trigger: 'upload' })).toBeUndefined();
  });

  it('never skips a stage with no recorded build', () => {
    expect(decideSkipByBuild(undefined, { stage: 'dev', build: '1', trigger: 'upload' })).toBeUndefined();
  });
});
