/**
 * Runs the sandbox as a process: `npm run sandbox -- (node --import tsx packages/aws-sandbox/src/cli.ts) --seed seed.yml --port 4566`.
 * Prints the endpoint and every seeded account's credentials as env lines (eval-able), then serves
 * until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startSandbox } from './index.js';
import { applySeed, readSeedFile, resolveSeedDir } from './seed.js';

async function runCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      port: { type: 'string', default: '4566' },
      region: { type: 'string', default: 'eu-west-1' },
      'update-delay-ms': { type: 'string' },
      'no-rate-limits': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number, got ${values.port}`);
  const sandbox = await startSandbox({
    port,
    defaultRegion: values.region,
    lambda: {
      ...(values['update-delay-ms'] !== undefined ? { updateDelayMs: Number(values['update-delay-ms']) } : {}),
      ...(values['no-rate-limits'] ? { rateLimits: false } : {}),
    },
  });
  const lines = [`AWS_ENDPOINT_URL=${sandbox.endpoint}`, `AWS_REGION=${values.region}`];
  if (values.seed) {
    const accounts = await applySeed(
      sandbox,
      await readSeedFile(values.seed),
      resolveSeedDir(values.seed),
      values.region,
    );
    let first = true;
    for (const [name, account] of accounts) {
      const prefix = `SANDBOX_${name.toUpperCase().replace(/-/g, '_')}`;
      lines.push(`${prefix}_ACCOUNT_ID=${account.accountId}`);
      lines.push(`${prefix}_ACCESS_KEY_ID=${account.credentials.accessKeyId}`);
      lines.push(`${prefix}_SECRET_ACCESS_KEY=${account.credentials.secretAccessKey}`);
      if (first) {
        // The first account is the default credential chain's identity.
        lines.push(`AWS_ACCESS_KEY_ID=${account.credentials.accessKeyId}`);
        lines.push(`AWS_SECRET_ACCESS_KEY=${account.credentials.secretAccessKey}`);
        first = false;
      }
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (signal: string): void => {
    process.stderr.write(`sandbox: ${signal}, stopping\n`);
    sandbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`sandbox: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

runCli(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
