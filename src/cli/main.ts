/**
 * The `ferry` command line: program setup and dispatch. Each command lives in its own file with
 * its options type and one entry function; they get their dependencies (output, configuration,
 * runtime, engine) from a CommandContext, return an exit code, and never call process.exit.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { type AwsErrorContext, translateAwsError } from '../aws/sdk-errors.js';
import { BUILD_ID } from '../core/artifact-key.js';
import { runAdopt } from './adopt.js';
import { runConfigCheck } from './config-check.js';
import { type CliDeps, type CommandContext, type CommonOptions, createCommandContext } from './context.js';
import { runDeploy } from './deploy.js';
import { createCliRuntime, loadEngine } from './engine.js';
import { runHistory } from './history.js';
import {
  type CliIo,
  EXIT_CODE_HELP,
  ExitCode,
  exitCodeForError,
  reportError,
  serializeError,
  writeJson,
} from './output.js';
import { runPromote } from './promote.js';
import { runRollback } from './rollback.js';
import { runStatus } from './status.js';
import { runTraffic, type TrafficAction } from './traffic.js';
import { runUpload } from './upload.js';

/**
 * Runs one ferry command line (`argv` without node and the script) and returns its exit code.
 * Tests call this in-process with captured output and fake dependencies.
 */
export async function runCli(argv: readonly string[], io: CliIo, overrides: Partial<CliDeps> = {}): Promise<ExitCode> {
  const deps: CliDeps = {
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
    createRuntime: createCliRuntime,
    loadEngine,
    ...overrides,
  };
  const ctx = createCommandContext(io, deps);
  let exitCode: ExitCode = ExitCode.Ok;
  const program = createProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    // Commander has already printed its message (naming the bad option or argument) on stderr.
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    reportError(io, error, ctx.debug);
    return exitCodeForError(error);
  }
  return exitCode;
}

/** The process entry point used by bin/ferry.js. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  });
}

export function createProgram(ctx: CommandContext, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('ferry')
    .description(
      'Deploys Lambda function zips across AWS accounts: upload, deploy, promote, roll back, and see what runs where.',
    )
    .version(packageJson.version)
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.writeOut(s), writeErr: (s) => ctx.io.writeErr(s) })
    .showHelpAfterError('(run ferry --help, or ferry <command> --help, for usage)')
    .addHelpText('after', `\n${EXIT_CODE_HELP}`);

  /** Runs a command; a thrown error is reported on stderr (and as JSON on stdout with --json). */
  const run = async (options: CommonOptions, command: () => Promise<ExitCode>) => {
    try {
      setExitCode(await command());
    } catch (thrown) {
      const error = translateAwsError(thrown, awsErrorContext(ctx, options)) ?? thrown;
      const code = exitCodeForError(error);
      reportError(ctx.io, error, ctx.debug);
      if (options.json) writeJson(ctx.io, { status: 'error', exitCode: code, error: serializeError(error) });
      setExitCode(code);
    }
  };

  addCommonOptions(
    program
      .command('upload')
      .description(
        'verify a function zip and upload it to the artifact bucket, as CI does (the upload triggers deployment)',
      )
      .argument('<zip>', 'the function zip')
      .requiredOption('--app <app>', 'the app (as configured)')
      .option('--build <build>', 'build id (default: the UTC time, YYYYMMDDTHHMMSSZ)', parseBuildId)
      .option('--commit <commit>', 'commit id, stored as object metadata'),
    { changes: true },
  ).action((zip: string, options) => run(options, () => runUpload(ctx, zip, options)));

  addCommonOptions(
    program
      .command('deploy')
      .description("deploy a build to one stage now, with the caller's credentials")
      .argument('<source>', 'a local zip (uploaded first) or s3://bucket/key[?versionId=V]')
      .requiredOption('--app <app>', 'the app (as configured)')
      .requiredOption('--stage <stage>', 'the stage to deploy to')
      .option(
        '--target <target>',
        'only this target: id, account or function (repeatable)',
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option('--build <build>', 'build id (default: from the S3 key, or the UTC time for a local zip)', parseBuildId)
      .option('--commit <commit>', 'commit id stored with a local zip')
      .addOption(TRAFFIC_OPTION())
      .option(
        '--ignore-alarms',
        'do not read the traffic alarms (fix forward while one fires); recorded with the caller',
      ),
    { changes: true },
  ).action((source: string, options) => run(options, () => runDeploy(ctx, source, options)));

  addCommonOptions(
    program
      .command('status')
      .description(
        'what runs where: apps × stages, read live from every target account, with drift flagged (exits 6 on drift, 4/5/1 when a target cannot be read)',
      )
      .option('--app <app>', 'only this app, one row per target')
      .option('--wide', 'one row per target: live and recorded versions, and why a target is flagged'),
    { changes: false },
  ).action((options) => run(options, () => runStatus(ctx, options)));

  addCommonOptions(
    program
      .command('history')
      .description("an app's deployment ledger, newest first")
      .requiredOption('--app <app>', 'the app')
      .option('--stage <stage>', 'only this stage')
      .option('--limit <n>', 'at most n entries', parsePositiveInt),
    { changes: false },
  ).action((options) => run(options, () => runHistory(ctx, options)));

  addCommonOptions(
    program
      .command('promote')
      .description('deploy the build proven in one stage to the next, the exact same bytes')
      .requiredOption('--app <app>', 'the app')
      .requiredOption('--from <stage>', 'the stage the build is proven in')
      .requiredOption('--to <stage>', 'the stage to deploy it to')
      .option('--build <build>', "this build (default: the source stage's current build)", parseBuildId)
      .option('--force', 'promote although soak, window or no-failure rules say wait (safety checks still apply)')
      .addOption(TRAFFIC_OPTION())
      .option(
        '--ignore-alarms',
        'do not read the traffic alarms (fix forward while one fires); recorded with the caller',
      ),
    { changes: true },
  ).action((options) => run(options, () => runPromote(ctx, options)));

  addCommonOptions(
    program
      .command('rollback')
      .description('move the aliases of one stage back to an earlier build or version, without re-uploading')
      .requiredOption('--app <app>', 'the app')
      .requiredOption('--stage <stage>', 'the stage')
      .addOption(
        new Option('--to-build <build>', 'roll back to this build (default: the one before the current)')
          .argParser(parseBuildId)
          .conflicts('toVersion'),
      )
      .addOption(new Option('--to-version <version>', 'roll back to this Lambda version').argParser(parseVersion)),
    { changes: true },
  ).action((options) => run(options, () => runRollback(ctx, options)));

  addCommonOptions(
    program
      .command('adopt')
      .description(
        "record what the aliases of functions ferry never deployed serve as each stage's starting point (ledger, with the caller)",
      )
      .option('--app <app>', 'only this app')
      .option('--stage <stage>', 'only this stage')
      .option(
        '--build <build>',
        "the build id to record (default: the version's ferry description, else 0-adopted)",
        parseBuildId,
      ),
    { changes: true },
  ).action((options) => run(options, () => runAdopt(ctx, options)));

  const traffic = program.command('traffic').description("a stage's traffic shift (canary, linear, waves)");
  for (const [action, description] of [
    ['status', 'weights per target, the next step and the gates'],
    ['continue', 'skip the rest of the current hold (step, bake or inconclusive wait), recorded with the caller'],
    ['abort', 'roll the shift back to the stable version now, recorded with the caller'],
  ] as const) {
    addCommonOptions(
      traffic
        .command(action)
        .description(description)
        .requiredOption('--app <app>', 'the app')
        .requiredOption('--stage <stage>', 'the stage'),
      { changes: false },
    ).action((options) => run(options, () => runTraffic(ctx, action as TrafficAction, options)));
  }

  const config = program.command('config').description('inspect the configuration');
  addCommonOptions(
    config.command('check').description('validate the configuration and print the resolved stages, targets and rules'),
    { changes: false },
  ).action((options) => run(options, () => runConfigCheck(ctx, options)));

  return program;
}

/** What an AWS error message should name: the Region ferry's clients used and the endpoint override. */
function awsErrorContext(ctx: CommandContext, options: CommonOptions): AwsErrorContext {
  let region = options.region;
  try {
    region ??= ctx.loadConfig(options).config.region;
  } catch {
    // The configuration is what failed: the message does without the Region.
  }
  const endpoint = ctx.deps.env.AWS_ENDPOINT_URL;
  return { ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
}

/** The escape hatch: move the alias at once whatever the stage's traffic policy (recorded with the caller). */
const TRAFFIC_OPTION = () =>
  new Option('--traffic <policy>', "override the stage's traffic policy (recorded with the caller)").choices([
    'allAtOnce',
  ]);

function addCommonOptions(command: Command, { changes }: { changes: boolean }): Command {
  command
    .option('--json', 'print the result as JSON on stdout (progress and errors stay on stderr)')
    .option(
      '--config <file>',
      'configuration file, YAML or JSON (default: FERRY_CONFIG, FERRY_CONFIG_FILE, ./ferry.config.yml, ./variables.dev.yml)',
    )
    .option(
      '--region <region>',
      "region of ferry's artifact bucket and STS (default: the configuration's)",
      parseRegion,
    );
  if (changes) command.option('--dry-run', 'print the plan and change nothing');
  return command;
}

function parseBuildId(value: string): string {
  if (!BUILD_ID.test(value)) {
    throw new InvalidArgumentError(
      `expected 1–128 of letters, digits, '.', '_' and '-', starting with a letter or digit.`,
    );
  }
  return value;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive whole number.');
  }
  return n;
}

function parseVersion(value: string): string {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a published version number such as 7.');
  return value;
}

function parseRegion(value: string): string {
  if (!/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/.test(value)) {
    throw new InvalidArgumentError('expected an AWS Region such as eu-west-1.');
  }
  return value;
}
