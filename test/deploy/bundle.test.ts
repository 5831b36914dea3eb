/**
 * The esbuild bundles are what Lambda runs: build them, then let the bundled upload handler
 * deploy against the sandbox, so a bundling mistake (a missing module, a mangled import) fails here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFunctionZip, startFerryWorld, TWO_ACCOUNTS } from '../support/sandbox-harness.js';

const HANDLERS = ['artifact-uploaded', 'scheduled-promotion', 'codepipeline-action'];

beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { stdio: 'pipe' });
}, 120_000);

describe('handler bundles', () => {
  it.each(HANDLERS)('%s is one self-contained ESM file under 1 MB', (name) => {
    expect(statSync(`dist/handlers/${name}.mjs`).size).toBeLessThan(1024 * 1024);
  });

  describe('the bundled upload handler', () => {
    let world: Awaited<ReturnType<typeof startFerryWorld>>;
    afterAll(() => world?.stop());

    it('deploys an upload against the sandbox, configured only through its environment', async () => {
      world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
      const bundle = (await import(pathToFileURL(resolve('dist/handlers/artifact-uploaded.mjs')).href)) as {
        handler: (event: S3Event, context: unknown) => Promise<{ results: { status: string }[] }>;
      };
      const events: S3Event[] = [];
      world.sandbox.subscribeToObjectCreated(world.config.artifactBucket, {}, (event) => {
        events.push(event as S3Event);
      });
      const zip = await makeFunctionZip('bundled');
      await world.upload('orders-api', '1', zip);
      await world.sandbox.drainEvents();
      const [event] = events;
      if (!event) throw new Error('no S3 event');
      const summary = await bundle.handler(event, {
        functionName: 'ferry',
        awsRequestId: 'test',
        getRemainingTimeInMillis: () => 900_000,
      });
      expect(summary.results.map((r) => r.status)).toEqual(['succeeded']);
      const fn = world.sandbox.lambda.describeFunction('222222222222', 'eu-west-1', 'orders-api');
      expect(fn?.latest.codeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    }, 60_000);
  });
});
