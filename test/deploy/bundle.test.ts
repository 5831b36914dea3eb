/**
 * The esbuild bundles are what Lambda runs: build them, then let the bundled upload handler
 * deploy against the sandbox, so a bundling mistake (a missing module, a mangled import) fails here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFunctionZip, startFerryWorld, TWO_ACCOUNTS } from '../support/sandbox-harness.js';

const HANDLERS = ['artifact-uploaded', 'scheduled-promotion', 'codepipeline-action'];

beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { stdio: 'pipe' });
}, 120_000);

interface Metafile {
  readonly outputs: Record<
    string,
    {
      readonly bytes: number;
      readonly entryPoint?: string;
      readonly imports: readonly { readonly path: string; readonly kind: string }[];
      readonly inputs: Record<string, unknown>;
    }
  >;
}

describe('the CLI bundle', () => {
  /** The source modules a process loads: dist/cli.mjs, and the chunks of `dynamic` (source entries) on first use. */
  const loadedBy = (dynamic: readonly string[]) => {
    const meta = JSON.parse(readFileSync('dist/cli.meta.json', 'utf8')) as Metafile;
    const files = new Set<string>();
    const visit = (file: string) => {
      const output = meta.outputs[file];
      if (!output || files.has(file)) return;
      files.add(file);
      for (const i of output.imports) if (i.kind === 'import-statement') visit(i.path);
    };
    visit('dist/cli.mjs');
    for (const source of dynamic) {
      const chunk = Object.keys(meta.outputs).find((f) => meta.outputs[f]?.entryPoint === source);
      if (!chunk) throw new Error(`no chunk for ${source}: is it still imported dynamically?`);
      visit(chunk);
    }
    return {
      inputs: [...files].flatMap((f) => Object.keys(meta.outputs[f]?.inputs ?? {})),
      bytes: [...files].reduce((sum, f) => sum + (meta.outputs[f]?.bytes ?? 0), 0),
    };
  };

  it('is split so that `ferry deploy` loads the deploy engine and its clients, not the other commands or clients', () => {
    // What `ferry deploy s3://…` imports: the runtime, the deploy engine, and the staged-copy record.
    const deploy = loadedBy([
      'src/runtime/create-runtime.ts',
      'src/engine/deploy-build.ts',
      'src/engine/staged-copy.ts',
    ]);
    expect(deploy.inputs).toContain('src/engine/deploy-build.ts');
    expect(deploy.inputs.some((i) => i.includes('@aws-sdk/client-lambda/'))).toBe(true);
    for (const unused of [
      '@aws-sdk/client-cloudwatch/',
      '@aws-sdk/client-eventbridge/',
      '@aws-sdk/client-codepipeline/',
    ])
      expect(deploy.inputs.filter((i) => i.includes(unused))).toEqual([]);
    for (const unused of ['src/engine/promote.ts', 'src/engine/status.ts', 'src/engine/adopt.ts'])
      expect(deploy.inputs).not.toContain(unused);
    // A command that never reaches AWS (config check, --help) loads no SDK at all.
    const offline = loadedBy([]);
    expect(offline.inputs.filter((i) => i.includes('@aws-sdk/'))).toEqual([]);
    expect(offline.bytes).toBeLessThan(deploy.bytes / 2);
  });
});

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
