/**
 * Runs the sandbox as a process (`npm run sandbox -- --seed seed.yml`). Once it is ready, prints
 * the environment that talks to it on stdout, as `export` lines and nothing else (so
 * `eval "$(…)"` or `> env.sh` works); everything meant for people goes to stderr. Serves until
 * SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { type Sandbox, startSandbox } from './index.js';
import { applySeed, issueSeedSession, readSeedFile, resolveSeedDir, type SeedFile } from './seed.js';

const USAGE = `Usage: npm run sandbox -- [options]

Starts the local AWS sandbox (STS, S3, Lambda, CodePipeline) on 127.0.0.1. When it is ready, it
prints the environment to use on stdout, as export lines only:

  AWS_ENDPOINT_URL, AWS_REGION, and the credentials of the seed's \`session\` role
  (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the seed's \`environment\`.

Everything else (accounts, how to stop it) goes to stderr. Stop it with Ctrl-C, SIGTERM, or
\`npm run sandbox -- --stop\` from any shell that has its AWS_ENDPOINT_URL.

Options:
  --seed <file>            accounts, roles, buckets, functions, session, environment (YAML or JSON)
  --port <n>               port to listen on (default 4566; 0 picks a free one)
  --region <region>        default Region (default eu-west-1)
  --update-delay-ms <ms>   how long a Lambda code update stays InProgress (default 200)
  --no-rate-limits         turn off Lambda's per-account request rate limits
  --stop                   stop the sandbox at AWS_ENDPOINT_URL (or --endpoint), waiting until it is gone
  --endpoint <url>         with --stop: the sandbox to stop
  -h, --help               this text

Example:
  npm run -s sandbox -- --seed seed.yml --port 0 > sandbox.env &
  until [ -s sandbox.env ]; do sleep 0.2; done; . ./sandbox.env
  …
  npm run -s sandbox -- --stop; wait
`;

/** Parsed command line; `help` short-circuits everything else. */
interface SandboxCliOptions {
  readonly help: boolean;
  /** Stop the sandbox at this endpoint instead of starting one. */
  readonly stop?: string;
  readonly seed?: string;
  readonly port: number;
  readonly region: string;
  readonly updateDelayMs?: number;
  readonly rateLimits: boolean;
}

function parseSandboxArgs(argv: readonly string[]): SandboxCliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      seed: { type: 'string' },
      port: { type: 'string', default: '4566' },
      region: { type: 'string', default: 'eu-west-1' },
      'update-delay-ms': { type: 'string' },
      'no-rate-limits': { type: 'boolean', default: false },
      stop: { type: 'boolean', default: false },
      endpoint: { type: 'string' },
    },
    strict: true,
  });
  const stop = values.endpoint ?? process.env.AWS_ENDPOINT_URL;
  if (values.stop && !stop) throw new Error('--stop needs the sandbox: set AWS_ENDPOINT_URL or pass --endpoint <url>');
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`--port must be a port number, got ${values.port}`);
  const delay = values['update-delay-ms'];
  if (delay !== undefined && !/^\d+$/.test(delay)) {
    throw new Error(`--update-delay-ms must be a whole number of milliseconds, got ${delay}`);
  }
  return {
    help: values.help,
    ...(values.stop && stop ? { stop } : {}),
    ...(values.seed ? { seed: values.seed } : {}),
    port,
    region: values.region,
    ...(delay !== undefined ? { updateDelayMs: Number(delay) } : {}),
    rateLimits: !values['no-rate-limits'],
  };
}

/** A POSIX-shell `export` line; the value single-quoted unless it needs no quoting. */
function formatExport(name: string, value: string): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
  return `export ${name}=${quoted}`;
}

/** The environment lines for a started, seeded sandbox, and the notes for people (stderr). */
async function describeEnvironment(
  sandbox: Sandbox,
  seed: SeedFile | undefined,
  seedDir: string,
  region: string,
): Promise<{ exports: string[]; notes: string[] }> {
  const exports = [formatExport('AWS_ENDPOINT_URL', sandbox.endpoint), formatExport('AWS_REGION', region)];
  const notes = [`sandbox: listening on ${sandbox.endpoint} (pid ${process.pid})`];
  if (!seed) {
    notes.push('sandbox: no --seed, so no accounts and no credentials; see --help');
    return { exports, notes };
  }
  const accounts = await applySeed(sandbox, seed, seedDir, region);
  for (const [name, account] of accounts) {
    notes.push(
      `sandbox: account ${name} ${account.accountId} (root keys ${account.credentials.accessKeyId} / ${account.credentials.secretAccessKey})`,
    );
  }
  const session = issueSeedSession(sandbox, seed, accounts);
  if (session) {
    exports.push(
      formatExport('AWS_ACCESS_KEY_ID', session.accessKeyId),
      formatExport('AWS_SECRET_ACCESS_KEY', session.secretAccessKey),
      formatExport('AWS_SESSION_TOKEN', session.sessionToken ?? ''),
    );
    notes.push(`sandbox: credentials are a session of ${session.roleArn}, valid ${seed.session?.durationSeconds} s`);
  } else {
    notes.push(
      'sandbox: the seed has no `session` role, so no credentials are printed (root keys cannot assume roles, as in AWS)',
    );
  }
  for (const [name, value] of Object.entries(seed.environment)) exports.push(formatExport(name, value));
  return { exports, notes };
}

async function runCli(argv: string[]): Promise<void> {
  const options = parseSandboxArgs(argv);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (options.stop) {
    await stopRemote(options.stop);
    return;
  }
  // Read the seed first: a mistake in it fails before a port is taken.
  const seed = options.seed ? await readSeedFile(options.seed) : undefined;
  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sandbox: ${reason}, stopping\n`);
    sandbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`sandbox: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const sandbox = await startSandbox({
    onShutdownRequest: () => stop('asked to stop'),
    port: options.port,
    defaultRegion: options.region,
    lambda: {
      ...(options.updateDelayMs !== undefined ? { updateDelayMs: options.updateDelayMs } : {}),
      ...(options.rateLimits ? {} : { rateLimits: false }),
    },
  });
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    const { exports, notes } = await describeEnvironment(
      sandbox,
      seed,
      options.seed ? resolveSeedDir(options.seed) : process.cwd(),
      options.region,
    );
    process.stderr.write(
      `${[...notes, 'sandbox: ready; stop it with Ctrl-C, or `npm run sandbox -- --stop` where its environment is set'].join('\n')}\n`,
    );
    // One write, after everything is seeded: whoever waits for stdout waits for a ready sandbox.
    process.stdout.write(`${exports.join('\n')}\n`);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

/** Asks the sandbox at `endpoint` to stop, then waits until it no longer answers. */
async function stopRemote(endpoint: string): Promise<void> {
  const url = new URL('/_sandbox/shutdown', endpoint);
  let answer: Response;
  try {
    answer = await fetch(url, { method: 'POST' });
  } catch {
    throw new Error(`no sandbox answers at ${endpoint} (already stopped?)`);
  }
  if (answer.status !== 202) throw new Error(`${endpoint} refused to stop: ${answer.status} ${await answer.text()}`);
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(new URL('/_sandbox/health', endpoint));
    } catch {
      process.stderr.write(`sandbox: ${endpoint} stopped\n`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${endpoint} still answers 10 s after it was asked to stop`);
}

runCli(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `sandbox: ${error instanceof Error ? error.message : String(error)} (npm run sandbox -- --help for usage)\n`,
  );
  process.exit(1);
});
