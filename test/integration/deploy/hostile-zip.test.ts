/**
 * End to end: a zip that extractors read differently, uploaded the way CI uploads (PutObject with
 * a matching ChecksumSHA256, so every other check passes), deploys nowhere and is in the ledger
 * with the reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readHistory } from '../../../src/engine/ledger.js';
import { type FerryWorld, recordLog, startFerryWorld, TWO_ACCOUNTS } from '../../support/sandbox-harness.js';
import { buildZip } from '../../support/zips.js';

const REGION = 'eu-west-1';
let world: FerryWorld | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('a hostile zip through the upload trigger', () => {
  it('an end record that hides ../evil.mjs deploys nowhere and is recorded as rejected with the reason', async () => {
    world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
    const runtime = world.createRuntime();
    const log = recordLog();
    world.connectUploadHandler(runtime, log);
    // A reader that trusts the end record's count sees index.mjs only; one that walks the central
    // directory also extracts ../evil.mjs.
    const zip = buildZip(
      [
        { name: 'index.mjs', content: 'export const handler = async () => "looks fine";\n' },
        { name: '../evil.mjs', content: 'import("node:child_process")' },
      ],
      { declaredEntries: 1 },
    );
    await world.upload('orders-api', '7', zip);
    await world.sandbox.drainEvents();

    for (const account of ['222222222222', '333333333333']) {
      expect(
        world.sandbox.countRequests({ service: 'lambda', operation: 'UpdateFunctionCode', accountId: account }),
      ).toBe(0);
      const snapshot = world.sandbox.lambda.describeFunction(account, REGION, 'orders-api');
      expect(snapshot?.versions.map((v) => v.version).filter((v) => v !== '$LATEST')).toEqual(['1']);
      expect(snapshot?.aliases.find((a) => a.name === 'live')?.functionVersion).toBe('1');
    }
    // Permanent: not retried by Lambda, not in the failure queue.
    expect(world.sandbox.events.deadLetters()).toEqual([]);
    const warning = log.lines.find((l) => l.message === 'artifact rejected');
    expect(warning?.attributes).toMatchObject({ build: '7' });
    expect(String(warning?.attributes.reason)).toMatch(/^ARTIFACT_DIRECTORY_MISMATCH: .*"\.\.\/evil\.mjs"/);

    const [entry, ...others] = await readHistory(runtime, { app: 'orders-api', stage: 'dev' });
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      app: 'orders-api',
      stage: 'dev',
      build: '7',
      outcome: 'rejected',
      code: 'ARTIFACT_DIRECTORY_MISMATCH',
      trigger: 'upload',
    });
    expect(entry?.reason).toContain('declares 1 entries');
    expect(entry?.reason).toContain('"../evil.mjs"');
    expect(entry?.source).toMatchObject({ key: 'artifacts/orders-api/7.zip' });
  });
});
