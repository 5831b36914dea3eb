/**
 * `npm run package [-- --stage S]`: checks `variables.<stage>.yml` the way the package step will
 * (ferry's own parseConfig, through serverless/ferry-values.cjs) and prints each problem as the
 * field and what to write there, without a stack trace; then runs `osls package` offline and says
 * where the package is and how big it is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { deriveValues } = require('../serverless/ferry-values.cjs') as {
  deriveValues: (stage: string) => Promise<unknown>;
};

/** The problems a configuration error lists (`Invalid <source>: a; b; c`), one per line. */
function describeConfigProblems(message: string): string[] {
  const match = /^Invalid ([^:]+(?:\([^)]*\))?): ([\s\S]*)$/.exec(message);
  const problems = match?.[2] ?? message;
  return problems.split(/; (?=[\w$()[\].-]+(?:\s|:))/).map((p) => p.trim());
}

function optionValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const stage = optionValue(argv, '--stage') ?? 'dev';
  try {
    await deriveValues(stage);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`npm run package: variables.${stage}.yml cannot be packaged:\n`);
    for (const problem of describeConfigProblems(message)) process.stderr.write(`  - ${problem}\n`);
    process.stderr.write(`Fix the field named above in variables.${stage}.yml, then run npm run package again.\n`);
    return 2;
  }
  const osls = path.join(ROOT, 'node_modules/osls/bin/serverless.js');
  const oslsArgs = ['package', ...argv, ...(optionValue(argv, '--stage') ? [] : ['--stage', stage])];
  const run = spawnSync(process.execPath, [osls, ...oslsArgs], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  if (run.status !== 0) return run.status ?? 1;
  const dir = path.resolve(ROOT, optionValue(argv, '--package') ?? '.serverless');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.zip') || f.endsWith('.json')) : [];
  const zips = files.filter((f) => f.endsWith('.zip'));
  const total = zips.reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
  process.stdout.write(
    `\nPackaged ferry for stage ${stage} in ${path.relative(process.cwd(), dir) || '.'}/ (${formatBytes(total)} in ${zips.length} zip(s)):\n`,
  );
  for (const f of files) process.stdout.write(`  ${f.padEnd(48)} ${formatBytes(statSync(path.join(dir, f)).size)}\n`);
  process.stdout.write(
    `Deploy it with: npx osls deploy --stage ${stage} --package ${path.relative(process.cwd(), dir) || '.'}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm run package: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
