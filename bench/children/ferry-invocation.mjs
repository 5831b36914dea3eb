// One invocation of ferry's upload function, alone in its process as in a Lambda container:
// imports the bundle, calls the handler once with the event (an S3 notification or one of ferry's
// own shard events) and a context whose remaining time runs down from the given limit, then writes
// the result and the process's peak RSS to a file. The sandbox runs in another process, so the
// peak is ferry's own. (Also the memory section's deploy, with 900 s to run.)
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { readPeakRss } from './peak-rss.mjs';

const [bundle, eventFile, outFile, limitMs] = process.argv.slice(2);
if (!bundle || !eventFile || !outFile || !limitMs)
  throw new Error('usage: node ferry-invocation.mjs <bundle> <event.json> <out.json> <timeout-ms>');
const deadline = Date.now() + Number(limitMs);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const { handler } = await import(pathToFileURL(bundle).href);
const context = {
  functionName: 'ferry-dev-artifact-uploaded',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:ferry-dev-artifact-uploaded',
  memoryLimitInMB: '1024',
  awsRequestId: `bench-${process.pid}`,
  logGroupName: '/aws/lambda/ferry-dev-artifact-uploaded',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
let result;
let error;
try {
  result = await handler(event, context);
} catch (caught) {
  error = caught instanceof Error ? caught.message : String(caught);
}
writeFileSync(outFile, JSON.stringify({ maxRssBytes: readPeakRss(), result, error }));
process.exitCode = error ? 1 : 0;
