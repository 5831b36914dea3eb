import { createHash } from 'node:crypto';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { createPipelineJobPort } from '../../../src/aws/codepipeline.js';
import { createCodePipelineActionHandler } from '../../../src/handlers/codepipeline-action.js';
import {
  type FerryWorld,
  makeFunctionZip,
  recordLog,
  startFerryWorld,
  TOOLING_ACCOUNT_ID,
  TWO_ACCOUNTS,
} from '../../support/sandbox-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const REGION = 'eu-west-1';
const PIPELINE_BUCKET = 'codepipeline-eu-west-1-111111111111';
const plenty = { getRemainingTimeInMillis: () => 600_000 };
let world: FerryWorld | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** A ferry world plus the pipeline's artifact store in the tooling account. */
async function start(config: unknown = { ...TWO_ACCOUNTS, concurrency: 1 }) {
  world = await startFerryWorld({ config, lambda: { updateDelayMs: 20 } });
  const w = world;
  w.sandbox.createBucket({ accountId: TOOLING_ACCOUNT_ID, name: PIPELINE_BUCKET, versioning: true });
  // ferry reports as its own execution role, from the environment the world set (as in the Lambda).
  const codepipeline = new CodePipelineClient({ region: REGION });
  const log = recordLog();
  const runtime = w.createRuntime();
  // The upload trigger listens too: the pipeline's copy in ferry's bucket must not deploy twice.
  w.connectUploadHandler(runtime, log);
  const handler = createCodePipelineActionHandler({
    getRuntime: () => runtime,
    getReporter: () => createPipelineJobPort(codepipeline),
    log,
    safetyMarginMs: 1_000,
  });
  const putInput = async (key: string, body: Buffer) => {
    await w.s3Client().send(new PutObjectCommand({ Bucket: PIPELINE_BUCKET, Key: key, Body: body }));
    return { name: 'BuildOutput', bucket: PIPELINE_BUCKET, key };
  };
  const createJob = (userParameters: string, inputArtifacts: { name: string; bucket: string; key: string }[]) =>
    w.sandbox.codepipeline.createJob({
      accountId: TOOLING_ACCOUNT_ID,
      functionName: 'ferry',
      userParameters,
      inputArtifacts,
    });
  return { world: w, log, handler, putInput, createJob };
}

async function zipHolding(name: string, content: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('pipeline build output'), 'README.md');
  zip.addBuffer(content, name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function live(w: FerryWorld, account: string) {
  const snapshot = w.sandbox.lambda.describeFunction(account, REGION, 'orders-api');
  return { snapshot, alias: snapshot?.aliases.find((a) => a.name === 'live') };
}

describe('CodePipeline invoke action against the sandbox', () => {
  it('deploys the function zip inside the input artifact and reports success with output variables', async () => {
    const { world, log, handler, putInput, createJob } = await start({ ...TWO_ACCOUNTS });
    const fn = await makeFunctionZip('pipeline-1');
    const input = await putInput('orders-pipeline/BuildOutput/a1b2c3.zip', await zipHolding('dist/orders-api.zip', fn));
    const event = createJob('{"app":"orders-api","stage":"dev","path":"dist/orders-api.zip","build":"100"}', [input]);
    const jobId = event['CodePipeline.job'].id;

    expect(await handler(event, plenty)).toEqual({ jobId, result: 'success' });
    await world.sandbox.drainEvents();

    const result = world.sandbox.codepipeline.getJobResult(jobId);
    expect(result?.status).toBe('Succeeded');
    expect(result?.success?.outputVariables).toEqual({
      build: '100',
      checksum: sha(fn),
      targetCount: '2',
      '222222222222_eu-west-1_orders-api_version': '2',
      '222222222222_eu-west-1_orders-api_previousVersion': '1',
      '222222222222_eu-west-1_orders-api_alias': 'live',
      '333333333333_eu-west-1_orders-api_version': '2',
      '333333333333_eu-west-1_orders-api_previousVersion': '1',
      '333333333333_eu-west-1_orders-api_alias': 'live',
    });
    for (const account of ['222222222222', '333333333333']) {
      const { snapshot, alias } = live(world, account);
      expect(snapshot?.latest.codeSha256).toBe(sha(fn));
      expect(alias?.functionVersion).toBe('2');
      expect(snapshot?.versions).toHaveLength(2);
    }
    // The copy in ferry's bucket reached the upload trigger, which left it to the pipeline.
    expect(log.lines.filter((l) => l.message.startsWith('upload skipped'))).toHaveLength(1);
    expect(
      log.lines.filter((l) => l.message.startsWith('target ')).every((l) => l.attributes.trigger === 'pipeline'),
    ).toBe(true);
    const logged = JSON.stringify(log.lines);
    const credentials = event['CodePipeline.job'].data.artifactCredentials;
    expect(logged).not.toContain(credentials.secretAccessKey);
    expect(logged).not.toContain(credentials.sessionToken);
  });

  it('streams a function zip larger than one upload part into the artifact bucket in parts, deploys it and leaves the copy to the pipeline', async () => {
    const { world, log, handler, putInput, createJob } = await start({ ...TWO_ACCOUNTS });
    const fn = await makeFunctionZip('pipeline-big', 12 * 1024 * 1024);
    const input = await putInput('orders-pipeline/BuildOutput/big.zip', fn);
    const event = createJob('{"app":"orders-api","stage":"dev","build":"101"}', [input]);
    const jobId = event['CodePipeline.job'].id;

    expect(await handler(event, plenty)).toEqual({ jobId, result: 'success' });
    await world.sandbox.drainEvents();

    expect(world.sandbox.codepipeline.getJobResult(jobId)?.status).toBe('Succeeded');
    expect(world.sandbox.requests({ service: 's3', operation: 'UploadPart' })).toHaveLength(2);
    const head = await world.s3Client().send(
      new HeadObjectCommand({
        Bucket: world.config.artifactBucket,
        Key: `${world.config.artifactPrefix}orders-api/101.zip`,
        ChecksumMode: 'ENABLED',
      }),
    );
    expect(head).toMatchObject({
      ChecksumType: 'COMPOSITE',
      Metadata: { sha256: sha(fn), 'ferry-trigger': 'pipeline' },
    });
    for (const account of ['222222222222', '333333333333']) {
      expect(live(world, account).snapshot?.latest.codeSha256).toBe(sha(fn));
    }
    // The trigger matched the composite against ferry's record of the copy and left it to the pipeline.
    expect(log.lines.filter((l) => l.message.startsWith('upload skipped'))).toHaveLength(1);
    expect(log.lines.find((l) => l.message === 'upload claims to be a ferry copy')).toBeUndefined();
  }, 120_000);

  it('reports a failure the pipeline can act on when the input artifact is not there', async () => {
    const { world, handler, createJob } = await start();
    const event = createJob('{"app":"orders-api","stage":"dev"}', [
      { name: 'BuildOutput', bucket: PIPELINE_BUCKET, key: 'orders-pipeline/BuildOutput/missing.zip' },
    ]);
    const jobId = event['CodePipeline.job'].id;

    expect((await handler(event, plenty)).result).toBe('failure');

    const result = world.sandbox.codepipeline.getJobResult(jobId);
    expect(result?.status).toBe('Failed');
    expect(result?.failure?.failureDetails).toMatchObject({
      // Without s3:ListBucket, S3 answers a missing object with AccessDenied: the message says both.
      type: 'PermissionError',
      message: expect.stringMatching(/input artifact 'BuildOutput' .* cannot be read .*: it does not exist/),
    });
    expect(live(world, '222222222222').alias?.functionVersion).toBe('1');
  });

  it('continues a job across invocations through its continuation token', async () => {
    const { world, log, handler, putInput, createJob } = await start();
    const fn = await makeFunctionZip('pipeline-2');
    const input = await putInput('orders-pipeline/BuildOutput/d4e5f6.zip', fn);
    const event = createJob('{"app":"orders-api","stage":"dev","build":"101"}', [input]);
    // Time to deploy and start the first target, then too little to start the second.
    const remaining = [600_000, 600_000, 500];

    expect((await handler(event, { getRemainingTimeInMillis: () => remaining.shift() ?? 500 })).result).toBe(
      'continue',
    );
    const first = world.sandbox.codepipeline.getJobResult(event['CodePipeline.job'].id);
    expect(first?.success?.continuationToken).toMatch(/^ferry1\./);
    expect(first?.success?.outputVariables).toBeUndefined();
    expect(live(world, '222222222222').alias?.functionVersion).toBe('2');
    expect(live(world, '333333333333').alias?.functionVersion).toBe('1');

    // CodePipeline invokes the action again with the token.
    const next = first?.continuation;
    if (!next) throw new Error('the sandbox created no continued job');
    expect(next['CodePipeline.job'].data.continuationToken).toBe(first?.success?.continuationToken);
    log.lines.length = 0;
    expect((await handler(next, plenty)).result).toBe('success');

    const final = world.sandbox.codepipeline.getJobResult(next['CodePipeline.job'].id);
    expect(final?.status).toBe('Succeeded');
    expect(final?.success?.outputVariables).toMatchObject({
      build: '101',
      checksum: sha(fn),
      '222222222222_eu-west-1_orders-api_version': '2',
      '333333333333_eu-west-1_orders-api_version': '2',
    });
    expect(log.lines.filter((l) => l.message.startsWith('target ')).map((l) => l.attributes.account)).toEqual([
      '333333333333',
    ]);
    for (const account of ['222222222222', '333333333333']) {
      expect(live(world, account).snapshot?.versions).toHaveLength(2);
    }
  });
});
