// ferry's upload handler, alone in its process: imports the bundle, invokes it once with an S3
// ObjectCreated event (as the bucket notification does) and writes its result and the process's
// peak RSS to a file. The sandbox runs in another process, so the peak is ferry's own.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, outFile] = process.argv.slice(2);
if (!bundle || !eventFile || !outFile)
  throw new Error('usage: node deploy-handler.mjs <bundle> <event.json> <out.json>');
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const { handler } = await import(pathToFileURL(bundle).href);
const context = {
  functionName: 'ferry-artifact-uploaded',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:ferry-artifact-uploaded',
  memoryLimitInMB: '1024',
  awsRequestId: 'bench-memory',
  logGroupName: '/aws/lambda/ferry-artifact-uploaded',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 900_000,
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

/**
 * This process's own peak RSS. On Linux, getrusage's maxRSS (process.resourceUsage) carries the
 * parent's high-water mark across fork and exec, so a child of a large parent reports the
 * parent's peak; /proc/self/status VmHWM is the peak of this process's memory alone.
 */
function readPeakRss() {
  if (existsSync('/proc/self/status')) {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return process.resourceUsage().maxRSS * 1024;
}
