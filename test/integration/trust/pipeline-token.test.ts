/**
 * A continuation token is not trusted for facts: an edited token that claims a target is done
 * (at version 999) must not yield Succeeded; ferry reads each claimed target's alias first.
 */
import { createHash } from 'node:crypto';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineJobPort } from '../../../src/aws/codepipeline.js';
import { readHistory } from '../../../src/engine/ledger.js';
import { createCodePipelineActionHandler } from '../../../src/handlers/codepipeline-action.js';
import {
  type FerryWorld,
  makeFunctionZip,
  recordLog,
  startFerryWorld,
  TOOLING_ACCOUNT_ID,
  TWO_ACCOUNTS,
} from '../../support/sandbox-harness.js';

const PIPELINE_BUCKET = 'codepipeline-eu-west-1-111111111111';
let world: FerryWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** Re-signs an edited payload the way ferry1 tokens are checked (an unkeyed digest: anyone can). */
function editToken(token: string, edit: (payload: { d: unknown[][] }) => void): string {
  const [, payload] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload as string, 'base64url').toString('utf8'));
  edit(decoded);
  const next = Buffer.from(JSON.stringify(decoded), 'utf8').toString('base64url');
  const check = createHash('sha256').update(next, 'utf8').digest('base64url').slice(0, 16);
  return `ferry1.${next}.${check}`;
}

describe('continuation tokens carry no trusted facts', () => {
  it('an edited token that claims version 999 fails the job instead of reporting success', async () => {
    world = await startFerryWorld({ config: { ...TWO_ACCOUNTS, concurrency: 1 }, lambda: { updateDelayMs: 20 } });
    const w = world;
    w.sandbox.createBucket({ accountId: TOOLING_ACCOUNT_ID, name: PIPELINE_BUCKET, versioning: true });
    const runtime = w.createRuntime();
    const log = recordLog();
    w.connectUploadHandler(runtime, log);
    const handler = createCodePipelineActionHandler({
      getRuntime: () => runtime,
      getReporter: () => createPipelineJobPort(new CodePipelineClient({ region: 'eu-west-1' })),
      log,
      safetyMarginMs: 1_000,
    });
    const fn = await makeFunctionZip('pipeline-token');
    const key = 'orders-pipeline/BuildOutput/token.zip';
    await w.s3Client().send(new PutObjectCommand({ Bucket: PIPELINE_BUCKET, Key: key, Body: fn }));
    const input = { name: 'BuildOutput', bucket: PIPELINE_BUCKET, key };
    const job = (continuationToken?: string) =>
      w.sandbox.codepipeline.createJob({
        accountId: TOOLING_ACCOUNT_ID,
        functionName: 'ferry',
        userParameters: '{"app":"orders-api","stage":"dev","build":"300"}',
        inputArtifacts: [input],
        ...(continuationToken ? { continuationToken } : {}),
      });

    // The first invocation deploys the first target, then runs out of time.
    const first = job();
    // Time to deploy and start the first target, then too little to start the second.
    const remaining = [600_000, 600_000, 500];
    const started = await handler(first, { getRemainingTimeInMillis: () => remaining.shift() ?? 500 });
    expect(started.result).toBe('continue');
    const token = w.sandbox.codepipeline.getJobResult(first['CodePipeline.job'].id)?.success?.continuationToken;
    if (typeof token !== 'string') throw new Error('no token');

    // Someone edits the token: the first target at version 999, the second claimed done without a deploy.
    const forged = editToken(token, (p) => {
      p.d = [
        [0, 1, '999', '1'],
        [1, 1, '1', ''],
      ];
    });
    const next = job(forged);
    expect((await handler(next, { getRemainingTimeInMillis: () => 600_000 })).result).toBe('failure');
    const result = w.sandbox.codepipeline.getJobResult(next['CodePipeline.job'].id);
    expect(result?.status).toBe('Failed');
    const message = String((result?.failure?.failureDetails as { message?: string } | undefined)?.message);
    expect(message).toMatch(/PIPELINE_TOKEN_DRIFT/);
    expect(message).toMatch(
      /222222222222\/eu-west-1\/orders-api:live serves sha256 \S+ \(version 2\), the continuation token says sha256 \S+ \(version 999\)/,
    );
    expect(message).toMatch(/333333333333\/eu-west-1\/orders-api:live serves sha256 \S+ \(version 1\)/);
    const [entry] = await readHistory(runtime, { app: 'orders-api', stage: 'dev' });
    expect(entry).toMatchObject({ outcome: 'rejected', code: 'PIPELINE_TOKEN_DRIFT', trigger: 'pipeline' });
  });
});
