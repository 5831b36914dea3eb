import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FerryWorld, startFerryWorld } from '../../../src/sandbox/ferry-world.js';
import { makeFunctionZip } from '../../../src/sandbox/function-zip.js';
import { recordLog, TWO_ACCOUNTS } from '../../support/ferry-worlds.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
let world: FerryWorld | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('upload → deploy through the real SDK against the sandbox', () => {
  it('deploys an uploaded build into both target accounts and moves the aliases', async () => {
    world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
    const log = recordLog();
    world.connectUploadHandler(world.createRuntime(), log);
    const zip = await makeFunctionZip('build-1');
    await world.upload('orders-api', '1', zip, { commit: 'abc123' });
    await world.sandbox.drainEvents();

    for (const account of ['222222222222', '333333333333']) {
      const fn = world.sandbox.lambda.describeFunction(account, 'eu-west-1', 'orders-api');
      expect(fn?.latest.codeSha256).toBe(sha(zip));
      expect(fn?.aliases.find((a) => a.name === 'live')?.functionVersion).toBe('2');
      expect(fn?.versions.find((v) => v.version === '2')?.description).toBe(`ferry: orders-api 1 sha256:${sha(zip)}`);
    }
    expect(log.lines.filter((l) => l.message === 'target deployed')).toHaveLength(2);
    expect(world.sandbox.events.deadLetters()).toEqual([]);
  });
});
