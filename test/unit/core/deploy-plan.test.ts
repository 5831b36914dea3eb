import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describePlan,
  needsVersionList,
  planTargetDeploy,
  type TargetObservation,
} from '../../../src/core/deploy-plan.js';
import type { AliasState, FunctionState, UpdateStatus } from '../../../src/core/lambda-model.js';

const NEW = 'bmV3LWNvZGUtc2hhMjU2LWJhc2U2NC1lbmNvZGVkLi4uLi4=';
const OLD = 'b2xkLWNvZGUtc2hhMjU2LWJhc2U2NC1lbmNvZGVkLi4uLi4=';
const artifact = { codeSha256: NEW, via: 'zip-file' as const };

const latest = (codeSha256: string, status?: UpdateStatus): FunctionState => ({
  functionName: 'orders-api',
  functionArn: 'arn:aws:lambda:eu-west-1:222222222222:function:orders-api',
  version: '$LATEST',
  codeSha256,
  revisionId: 'rev-1',
  ...(status ? { lastUpdateStatus: status } : {}),
});
const alias = (functionVersion: string, routing: Record<string, number> = {}): AliasState => ({
  name: 'live',
  functionVersion,
  revisionId: 'alias-rev',
  routing,
});

describe('planTargetDeploy', () => {
  it('first deploy: updates, waits, publishes and creates the alias', () => {
    const plan = planTargetDeploy({ latest: latest(OLD, 'Successful') }, artifact, 'live');
    expect(plan.outcome).toBe('deploy');
    expect(plan.steps).toEqual([
      { kind: 'update-code', via: 'zip-file', expectedRevisionId: 'rev-1' },
      { kind: 'wait-for-update' },
      { kind: 'publish-version', codeSha256: NEW },
      { kind: 'point-alias', alias: 'live', create: true },
    ]);
    expect(plan.previousVersion).toBeUndefined();
  });

  it('new code over an existing alias: moves it, guarded by the alias RevisionId, remembering the old version', () => {
    const plan = planTargetDeploy({ latest: latest(OLD), alias: alias('3') }, artifact, 'live');
    expect(plan.outcome).toBe('deploy');
    expect(plan.steps.at(-1)).toEqual({
      kind: 'point-alias',
      alias: 'live',
      create: false,
      expectedRevisionId: 'alias-rev',
    });
    expect(plan.previousVersion).toBe('3');
  });

  it('unchanged re-delivery: nothing to do, no new version', () => {
    const observation: TargetObservation = {
      latest: latest(NEW, 'Successful'),
      alias: alias('4'),
      versions: [
        { version: '3', codeSha256: OLD },
        { version: '4', codeSha256: NEW },
      ],
    };
    const plan = planTargetDeploy(observation, artifact, 'live');
    expect(plan).toMatchObject({ outcome: 'unchanged', steps: [], targetVersion: '4', previousVersion: '4' });
  });

  it('re-delivery after the alias moved elsewhere: points the alias back at the existing version', () => {
    const plan = planTargetDeploy(
      { latest: latest(NEW), alias: alias('3'), versions: [{ version: '4', codeSha256: NEW }] },
      artifact,
      'live',
    );
    expect(plan.outcome).toBe('point-alias');
    expect(plan.steps).toEqual([
      { kind: 'point-alias', alias: 'live', version: '4', create: false, expectedRevisionId: 'alias-rev' },
    ]);
  });

  it('a canary left on the alias is cleared even when the version is right', () => {
    const plan = planTargetDeploy(
      { latest: latest(NEW), alias: alias('4', { '3': 0.1 }), versions: [{ version: '4', codeSha256: NEW }] },
      artifact,
      'live',
    );
    expect(plan.outcome).toBe('point-alias');
  });

  it('a run that died after updating the code resumes by publishing', () => {
    const plan = planTargetDeploy(
      { latest: latest(NEW, 'Successful'), alias: alias('3'), versions: [{ version: '3', codeSha256: OLD }] },
      artifact,
      'live',
    );
    expect(plan.outcome).toBe('publish');
    expect(plan.steps.map((s) => s.kind)).toEqual(['publish-version', 'point-alias']);
  });

  it('a Failed update holding the same checksum is redone, not published', () => {
    const plan = planTargetDeploy({ latest: latest(NEW, 'Failed'), alias: alias('3') }, artifact, 'live');
    expect(plan.outcome).toBe('deploy');
  });

  it('reuses the newest version when several hold the artifact', () => {
    const plan = planTargetDeploy(
      {
        latest: latest(NEW),
        alias: alias('2'),
        versions: [
          { version: '$LATEST', codeSha256: NEW },
          { version: '9', codeSha256: NEW },
          { version: '10', codeSha256: NEW },
        ],
      },
      artifact,
      'live',
    );
    expect(plan.targetVersion).toBe('10');
  });

  describe('a version the ledger knows for this artifact', () => {
    const known = (version: string, codeSha256 = NEW) => ({ version, codeSha256 });
    // After a rollback from build 10 (v2) to build 9 (v1), $LATEST still holds build 10's code.
    it.each([
      {
        name: 'alias on it, no canary: unchanged, whatever $LATEST holds',
        observation: { latest: latest(OLD), alias: alias('1'), knownVersion: known('1') },
        outcome: 'unchanged',
        steps: [],
      },
      {
        name: 'alias elsewhere: points the alias back at it, no new version',
        observation: { latest: latest(OLD), alias: alias('2'), knownVersion: known('1') },
        outcome: 'point-alias',
        steps: [{ kind: 'point-alias', alias: 'live', version: '1', create: false, expectedRevisionId: 'alias-rev' }],
      },
      {
        name: 'alias on it with a canary: clears the canary by pointing again',
        observation: { latest: latest(OLD), alias: alias('1', { '2': 0.1 }), knownVersion: known('1') },
        outcome: 'point-alias',
        steps: [{ kind: 'point-alias', alias: 'live', version: '1', create: false, expectedRevisionId: 'alias-rev' }],
      },
      {
        name: 'no alias: creates it on the known version',
        observation: { latest: latest(OLD), knownVersion: known('1') },
        outcome: 'point-alias',
        steps: [{ kind: 'point-alias', alias: 'live', version: '1', create: true }],
      },
      {
        name: 'preferred over a newer duplicate found among the versions',
        observation: {
          latest: latest(NEW),
          alias: alias('1'),
          knownVersion: known('1'),
          versions: [
            { version: '1', codeSha256: NEW },
            { version: '3', codeSha256: NEW },
          ],
        },
        outcome: 'unchanged',
        steps: [],
      },
      {
        name: 'while $LATEST is mid-way through a failed update of other code',
        observation: { latest: latest(OLD, 'Failed'), alias: alias('1'), knownVersion: known('1') },
        outcome: 'unchanged',
        steps: [],
      },
    ])('$name', ({ observation, outcome, steps }) => {
      const plan = planTargetDeploy(observation as TargetObservation, artifact, 'live');
      expect(plan.outcome).toBe(outcome);
      expect(plan.steps).toEqual(steps);
      expect(plan.targetVersion).toBe('1');
      expect(plan.previousVersion).toBe(observation.alias?.functionVersion);
    });

    it.each([
      { name: 'it holds other code (the function was re-created)', knownVersion: known('1', OLD) },
      { name: 'it is $LATEST, which is not immutable', knownVersion: known('$LATEST') },
      { name: 'it is not a version number', knownVersion: known('live') },
    ])('is ignored when $name: the code is deployed', ({ knownVersion }) => {
      const plan = planTargetDeploy({ latest: latest(OLD), alias: alias('1'), knownVersion }, artifact, 'live');
      expect(plan.outcome).toBe('deploy');
    });

    it('makes the version list unnecessary only when it holds the artifact', () => {
      expect(needsVersionList({ latest: latest(NEW), knownVersion: known('1') }, artifact)).toBe(false);
      expect(needsVersionList({ latest: latest(NEW), knownVersion: known('1', OLD) }, artifact)).toBe(true);
      expect(needsVersionList({ latest: latest(OLD), knownVersion: known('1') }, artifact)).toBe(false);
    });
  });

  it('asks for the version list only when $LATEST already holds the artifact', () => {
    expect(needsVersionList({ latest: latest(NEW) }, artifact)).toBe(true);
    expect(needsVersionList({ latest: latest(OLD) }, artifact)).toBe(false);
    expect(needsVersionList({ latest: latest(NEW, 'InProgress') }, artifact)).toBe(false);
  });

  it('describes plans for humans', () => {
    expect(describePlan(planTargetDeploy({ latest: latest(OLD), alias: alias('1') }, artifact, 'live'))).toBe(
      `update code (zip-file, if revision rev-1), then wait for Successful, then publish version (CodeSha256 ${NEW}), then move alias live → new version`,
    );
  });

  describe('properties', () => {
    const sha = fc.constantFrom(NEW, OLD, 'c29tZXRoaW5nLWVsc2U=');
    const status = fc.constantFrom<UpdateStatus | undefined>('Successful', 'Failed', undefined);
    const versions = fc.array(fc.record({ version: fc.integer({ min: 1, max: 50 }).map(String), codeSha256: sha }), {
      maxLength: 6,
    });
    const observation = fc.record({
      latest: fc.tuple(sha, status).map(([s, st]) => latest(s, st)),
      alias: fc.option(
        fc
          .tuple(fc.integer({ min: 1, max: 50 }).map(String), fc.boolean())
          .map(([v, canary]) => alias(v, canary ? { '1': 0.1 } : {})),
        { nil: undefined },
      ),
      versions,
    });

    it('ends with the alias on a version holding the artifact, and never publishes when one exists', () => {
      fc.assert(
        fc.property(observation, (obs) => {
          const o: TargetObservation = {
            latest: obs.latest,
            versions: obs.versions,
            ...(obs.alias ? { alias: obs.alias } : {}),
          };
          const plan = planTargetDeploy(o, artifact, 'live');
          const existing = obs.versions.filter((v) => v.codeSha256 === NEW).map((v) => v.version);
          const latestHolds = obs.latest.codeSha256 === NEW && obs.latest.lastUpdateStatus !== 'Failed';
          if (plan.steps.length === 0) {
            expect(plan.targetVersion && existing.includes(plan.targetVersion)).toBeTruthy();
            expect(obs.alias?.functionVersion).toBe(plan.targetVersion);
            return;
          }
          expect(plan.steps.at(-1)?.kind).toBe('point-alias');
          const publishes = plan.steps.some((s) => s.kind === 'publish-version');
          if (latestHolds && existing.length > 0) expect(publishes).toBe(false);
          if (!latestHolds) expect(plan.steps[0]?.kind).toBe('update-code');
          // Publishing always comes after the code is settled.
          const kinds = plan.steps.map((s) => s.kind);
          if (kinds.includes('update-code'))
            expect(kinds.indexOf('wait-for-update')).toBeLessThan(kinds.indexOf('publish-version'));
        }),
      );
    });

    it('with a known version holding the artifact: never touches the code or publishes, and ends on it', () => {
      const knownVersion = fc.record({ version: fc.integer({ min: 1, max: 50 }).map(String), codeSha256: sha });
      fc.assert(
        fc.property(observation, knownVersion, (obs, known) => {
          const o: TargetObservation = {
            latest: obs.latest,
            versions: obs.versions,
            knownVersion: known,
            ...(obs.alias ? { alias: obs.alias } : {}),
          };
          const plan = planTargetDeploy(o, artifact, 'live');
          const kinds = plan.steps.map((s) => s.kind);
          if (known.codeSha256 !== NEW) {
            // Not the artifact: the plan is exactly the one without the known version.
            const { knownVersion: _ignored, ...without } = o;
            expect(plan).toEqual(planTargetDeploy(without, artifact, 'live'));
            return;
          }
          expect(kinds).not.toContain('update-code');
          expect(kinds).not.toContain('publish-version');
          expect(plan.targetVersion).toBe(known.version);
          const settled = obs.alias?.functionVersion === known.version && Object.keys(obs.alias.routing).length === 0;
          if (settled) expect(plan).toMatchObject({ outcome: 'unchanged', steps: [] });
          else {
            expect(plan.outcome).toBe('point-alias');
            expect(plan.steps).toEqual([
              expect.objectContaining({ kind: 'point-alias', version: known.version, create: obs.alias === undefined }),
            ]);
          }
        }),
      );
    });
  });
});
