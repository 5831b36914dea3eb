/**
 * A ferry world (sandbox + accounts, roles, bucket, functions from a ferry configuration) in its
 * own process, so what the benchmark measures (a CLI, a handler, the engine) does not share a CPU
 * or a heap with the fake AWS it talks to.
 *
 *   node --import tsx bench/world-server.ts --config world.json [--update-delay-ms 200] [--no-rate-limits]
 *
 * Prints one JSON line (endpoint, ferry's Lambda environment, root credentials per account), then
 * serves until SIGTERM/SIGINT, until its stdin closes (the benchmark died), or until
 * --max-lifetime-s passes: it never outlives the run that started it.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startFerryWorld } from '../scripts/demo/ferry-world.js';

export interface WorldAnnouncement {
  readonly endpoint: string;
  readonly region: string;
  /** ferry's execution-role environment (endpoint, region, temporary credentials, path-style S3). */
  readonly env: Record<string, string>;
  readonly ferryRoleArn: string;
  /** Root credentials by account id: the tooling account (CI) and every target account. */
  readonly roots: Record<string, { accessKeyId: string; secretAccessKey: string }>;
  readonly toolingAccountId: string;
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'update-delay-ms': { type: 'string', default: '200' },
      'no-rate-limits': { type: 'boolean', default: false },
      // Lambda's event queue for ferry's own function: the benchmark takes and delivers its events.
      'queue-async': { type: 'boolean', default: false },
      'max-lifetime-s': { type: 'string', default: '1800' },
    },
    strict: true,
  });
  if (!values.config) throw new Error('--config <file> is required');
  const config: unknown = JSON.parse(await readFile(values.config, 'utf8'));
  const world = await startFerryWorld({
    config,
    lambda: {
      updateDelayMs: Number(values['update-delay-ms']),
      rateLimits: !values['no-rate-limits'],
      ...(values['queue-async'] ? { asyncInvocations: 'queue' as const } : {}),
    },
  });
  const { TOOLING_ACCOUNT_ID } = await import('../scripts/demo/ferry-world.js');
  const accounts = new Set([TOOLING_ACCOUNT_ID, ...world.targets.map((t) => t.accountId)]);
  const announcement: WorldAnnouncement = {
    endpoint: world.sandbox.endpoint,
    region: world.config.region,
    env: { ...world.env },
    ferryRoleArn: world.ferryRoleArn,
    roots: Object.fromEntries([...accounts].map((id) => [id, world.rootCredentials(id)])),
    toolingAccountId: TOOLING_ACCOUNT_ID,
  };
  process.stdout.write(`${JSON.stringify(announcement)}\n`);

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    clearTimeout(lifetime);
    world.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`world-server: stop after ${why} failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const lifetime = setTimeout(() => stop('max lifetime'), Number(values['max-lifetime-s']) * 1000);
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

serve(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`world-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
