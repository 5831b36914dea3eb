/**
 * The integration-test harness: `startFerryWorld({ config })` starts a fresh sandbox with a
 * tooling account (artifact bucket, ferry's execution role), every target account of the config
 * (deploy role with ExternalId trust, least-privilege policy, the functions with their alias at
 * version 1), and applies ferry's Lambda environment (AWS_ENDPOINT_URL, region, the execution
 * role's credentials, FERRY_S3_FORCE_PATH_STYLE, FERRY_CONFIG) to process.env until `stop()`.
 *
 *   const world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
 *   const runtime = world.createRuntime();            // ferry's engine dependencies
 *   world.connectUploadHandler(runtime, recordLog()); // S3 events → the upload handler
 *   await world.upload('orders-api', '1', await makeFunctionZip('1'));
 *   await world.sandbox.drainEvents();                // no sleeps
 *   world.sandbox.lambda.describeFunction(account, region, name);
 *   await world.stop();
 */

export { makeFunctionZip } from '@ferry/aws-sandbox';
export {
  type FerryWorld,
  type FerryWorldOptions,
  startFerryWorld,
  TOOLING_ACCOUNT_ID,
} from '../../scripts/demo/ferry-world.js';
export { type LogLine, recordLog, TWO_ACCOUNTS } from './ferry-worlds.js';
