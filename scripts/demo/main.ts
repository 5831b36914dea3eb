/**
 * `npm run demo`: ferry's first run, entirely on this machine. Starts the local AWS sandbox with
 * a tooling account and two target accounts, uploads function zips as CI would, lets the S3 event
 * drive the deployments, and prints what happened and what now runs where. Exits 0 and leaves
 * nothing running.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { makeFailingFunctionZip, makeFunctionZip } from '@ferry/aws-sandbox';
import { runCli } from '../../src/cli/main.js';
import type { Target } from '../../src/core/config.js';
import type { DeployLog } from '../../src/engine/deploy-build.js';
import { createScheduledPromotionHandler } from '../../src/handlers/scheduled-promotion.js';
import { createTrafficTickHandler } from '../../src/handlers/traffic-tick.js';
import type { Runtime } from '../../src/runtime/create-runtime.js';
import { DEMO_CONFIG } from './demo-config.js';
import { type FerryWorld, startFerryWorld } from './ferry-world.js';

/** Lines are wrapped to the terminal (or COLUMNS, else 100 columns), continuing under their text. */
const WIDTH = process.stdout.columns || Number(process.env.COLUMNS) || 100;
const out = (line = '') => {
  const indent = ' '.repeat(/^\s*(?:\S+ )?/.exec(line)?.[0].length ?? 0);
  const [first = '', ...rest] = wrapLine(line, WIDTH, indent);
  process.stdout.write(`${[first, ...rest].join('\n')}\n`);
};

function wrapLine(line: string, width: number, indent: string): string[] {
  if (line.length <= width) return [line];
  const lead = /^\s*/.exec(line)?.[0] ?? '';
  const lines: string[] = [];
  let current = lead;
  for (const word of line.slice(lead.length).split(' ')) {
    const candidate = current.trim() === '' ? `${current}${word}` : `${current} ${word}`;
    if (candidate.length > width && current.trim() !== '') {
      lines.push(current);
      current = `${indent}${word}`;
    } else current = candidate;
  }
  lines.push(current);
  return lines;
}
const step = (n: number, text: string) => out(`\n${n}. ${text}`);

/** Prints one short line per target outcome, in place of the JSON logs a Lambda would write. */
function narrate(): DeployLog {
  let last = '';
  const once = (line: string) => {
    // Several targets (or the shift and its stage) can report the same outcome: say it once.
    if (line !== last) out(line);
    last = line;
  };
  const say =
    (icon: string) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      const a = Object.assign({}, ...attributes) as Record<string, unknown>;
      if (message.startsWith('traffic ')) {
        once(`   ${icon} ${a.app} ${a.stage}: ${message.slice('traffic '.length)}${a.reason ? ` (${a.reason})` : ''}`);
        return;
      }
      if (message.startsWith('promotion ')) {
        out(`   ${icon} ${a.app} ${a.from} → ${a.to}: ${message.slice('promotion '.length)} (${a.reason})`);
        return;
      }
      if (message === 'build skipped') {
        out(`   ${icon} build ${a.build} skipped in ${a.stage} (${a.reason})`);
        return;
      }
      if (a.function === undefined && a.reason === undefined) return;
      const where = a.function ? `${a.function} in ${a.account}` : String(a.key ?? '');
      const versions = a.version ? ` v${a.previousVersion ?? '-'} → v${a.version}` : '';
      const reason = a.reason ? ` (${a.reason})` : '';
      out(`   ${icon} ${where}: ${message.replace(/^target /, '')}${versions}${reason}`);
    };
  return { info: say('✔'), warn: say('!'), error: say('✘') };
}

/** Uploads as CI does, and says so: every deployment below follows an upload announced here. */
async function upload(
  world: FerryWorld,
  app: string,
  build: string,
  zip: Buffer,
  metadata: Record<string, string> = {},
) {
  const key = `${world.config.artifactPrefix}${app}/${build}.zip`;
  const commit = metadata.commit ? `, commit ${metadata.commit}` : '';
  out(
    `   ↑ CI uploads build ${build} of ${app} (${zip.length} bytes${commit}) to s3://${world.config.artifactBucket}/${key}`,
  );
  await world.upload(app, build, zip, metadata);
}

async function main(): Promise<void> {
  const started = Date.now();
  // ferry targets Lambda's nodejs22.x; the SDK's notice about running on Node 20 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  out('ferry demo: everything below runs against the local AWS sandbox on 127.0.0.1, no AWS account needed.');
  step(
    1,
    'Starting the sandbox: tooling account 111111111111 (artifact bucket, ferry), targets 222222222222 (dev) and 333333333333 (staging).',
  );
  // 'even' routing: a 25 % canary gets exactly one call in four, so the demo's outcome is the same every run.
  const world = await startFerryWorld({ config: DEMO_CONFIG, lambda: { updateDelayMs: 50, weightedRouting: 'even' } });
  try {
    out(
      `   sandbox listening on ${world.sandbox.endpoint}; deploy roles trust only ${world.ferryRoleArn} with an ExternalId.`,
    );
    // ferry reads time from the sandbox clock, so a two-minute canary takes two advances, not two minutes.
    const runtime = world.createRuntime({ now: () => world.sandbox.clock.now() });
    const log = narrate();
    world.connectUploadHandler(runtime, log);

    step(2, 'A first build: its S3 event invokes ferry, which deploys it to every dev target.');
    await upload(world, 'orders-api', '1', await makeFunctionZip('build 1'), { commit: 'a1b2c3d' });
    await world.sandbox.drainEvents();

    step(
      3,
      'CI uploads build 2, and S3 delivers its event twice (at least once): ferry converges, one new version only.',
    );
    world.sandbox.events.setFaults({ duplicate: 2 });
    await upload(world, 'orders-api', '2', await makeFunctionZip('build 2'), { commit: 'e4f5a6b' });
    await world.sandbox.drainEvents();
    world.sandbox.events.setFaults({ duplicate: 1 });

    step(4, 'A corrupt upload is rejected before it reaches any account.');
    await upload(world, 'orders-api', '3', Buffer.from('this is not a zip'));
    await world.sandbox.drainEvents();

    step(5, 'Build 1 arrives again, late (S3 events can be minutes late): older than what dev runs, so it is skipped.');
    await upload(world, 'orders-api', '1', await makeFunctionZip('build 1'), { commit: 'a1b2c3d' });
    await world.sandbox.drainEvents();

    step(
      6,
      'EventBridge fires the dev → staging promotion: the same bytes go into account 333333333333, as a canary (25 % for 2 minutes).',
    );
    const promotion = createScheduledPromotionHandler(() => runtime, log);
    await promotion({ app: 'orders-api', from: 'dev', to: 'staging' });
    await driveCanary(world, runtime, log);
    step(7, 'The schedule fires again: nothing to promote, nothing changes.');
    await promotion({ app: 'orders-api', from: 'dev', to: 'staging' });

    step(
      8,
      'CI uploads build 4, whose handler throws. dev takes it at once; its promotion to staging starts a canary.',
    );
    await world.upload('orders-api', '4', await makeFailingFunctionZip('build 4'), { commit: 'bad0c0d' });
    await world.sandbox.drainEvents();
    await promotion({ app: 'orders-api', from: 'dev', to: 'staging' });
    out('   No alarm is configured: ferry compares the error rates of the two versions from Lambda’s own metrics.');
    await driveCanary(world, runtime, log);
    printNotifications(world);

    step(9, '`ferry status`: one view of every account, read live and checked against the ledger.');
    await runCli(['status'], { writeOut: (t) => process.stdout.write(indent(t)), writeErr: () => {} });

    await printState(world);
    await invokeLive(world);
    out(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Next: \`npm test\`, and the README's "Deploy to AWS".`,
    );
  } finally {
    await world.stop();
  }
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line ? `   ${line}` : line))
    .join('\n');

/** Staging's live traffic: `calls` invocations through the alias, reporting how many each version served and failed. */
async function sendTraffic(world: FerryWorld, target: Target, calls: number): Promise<string> {
  const lambda = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials(target.accountId), target.region));
  const served = new Map<string, { calls: number; errors: number }>();
  try {
    for (let i = 0; i < calls; i += 1) {
      const answer = await lambda.send(
        new InvokeCommand({ FunctionName: target.functionName, Qualifier: target.alias }),
      );
      const version = answer.ExecutedVersion ?? '?';
      const tally = served.get(version) ?? { calls: 0, errors: 0 };
      tally.calls += 1;
      if (answer.FunctionError) tally.errors += 1;
      served.set(version, tally);
    }
  } finally {
    lambda.destroy();
  }
  return [...served]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([v, t]) => `v${v} ${t.calls} call${t.calls === 1 ? '' : 's'}${t.errors ? ` (${t.errors} failed)` : ''}`)
    .join(', ');
}

/**
 * Plays staging's users and EventBridge's one-minute tick: each sandbox minute sends traffic
 * through the alias, moves the clock a minute, and runs ferry's traffic-tick handler, until the
 * shift has ended (at most 10 ticks).
 */
async function driveCanary(world: FerryWorld, runtime: Runtime, log: DeployLog): Promise<void> {
  const staging = world.targets.find((t) => t.accountId === '333333333333');
  if (!staging) throw new Error('the demo world has no staging target');
  const tick = createTrafficTickHandler(() => runtime, log);
  const weight = () => {
    const alias = world.sandbox.lambda
      .describeFunction(staging.accountId, staging.region, staging.functionName)
      ?.aliases.find((a) => a.name === staging.alias);
    const [extra] = Object.entries(alias?.routing ?? {});
    return extra
      ? `v${alias?.functionVersion} ${Math.round((1 - extra[1]) * 100)} % / v${extra[0]} ${Math.round(extra[1] * 100)} %`
      : `v${alias?.functionVersion} 100 %`;
  };
  for (let minute = 1; minute <= 10; minute += 1) {
    const traffic = await sendTraffic(world, staging, 8);
    world.sandbox.clock.advance(60_000);
    const summary = await tick({});
    const result = summary.results.find((r) => r.app === 'orders-api' && r.stage === 'staging');
    out(`   minute ${minute}: traffic ${traffic}; tick → ${result?.status ?? 'no shift'}; alias now ${weight()}`);
    if (result?.status !== 'in-flight') return;
  }
}

/** What ferry published on the tooling account's default bus (source `ferry`) for this build. */
function printNotifications(world: FerryWorld): void {
  const events = world.sandbox.eventbridge.captured({ source: 'ferry' });
  out(`   ferry published ${events.length} EventBridge notifications (source "ferry"); the last ones:`);
  for (const event of events.slice(-3)) {
    const d = event.detail as { build?: string; stage?: string; state?: string; percent?: number; detail?: string };
    out(`     ${d.stage} build ${d.build}: ${d.state} at ${d.percent} %${d.detail ? ` — ${d.detail}` : ''}`);
  }
}

async function printState(world: FerryWorld): Promise<void> {
  step(10, 'Versions and aliases per account, straight from the sandbox:');
  out('   account       function        alias  version  versions  code');
  for (const target of world.targets) {
    const fn = world.sandbox.lambda.describeFunction(target.accountId, target.region, target.functionName);
    const alias = fn?.aliases.find((a) => a.name === target.alias);
    const version = fn?.versions.find((v) => v.version === alias?.functionVersion);
    const build = /^ferry: \S+ (\S+)/.exec(version?.description ?? '')?.[1];
    out(
      `   ${target.accountId}  ${target.functionName.padEnd(14)}  ${target.alias.padEnd(5)}  ${String(alias?.functionVersion ?? '-').padEnd(7)}  ${String(fn?.versions.length ?? 0).padEnd(8)}  ${build ? `build ${build}` : 'initial code'} (${version?.codeSha256.slice(0, 12) ?? '?'}…)`,
    );
  }
}

async function invokeLive(world: FerryWorld): Promise<void> {
  // Staging: its canary caught build 4, so it serves build 2 again.
  const target = world.targets.find((t) => t.accountId === '333333333333');
  if (!target) return;
  const lambda = new LambdaClient(world.sandbox.clientConfig(world.rootCredentials(target.accountId), target.region));
  const answer = await lambda.send(new InvokeCommand({ FunctionName: target.functionName, Qualifier: target.alias }));
  const payload = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : 'null';
  out(
    `\n   Invoking ${target.functionName}:${target.alias} in ${target.accountId} → version ${answer.ExecutedVersion} answers ${payload}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
