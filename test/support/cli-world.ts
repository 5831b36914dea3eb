/**
 * The CLI against a sandbox world, for integration tests: a fresh world, a scratch directory,
 * and `ferry(...argv)` that runs the CLI in process with the world's environment.
 *
 *   const cli = await startCliWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
 *   const result = await cli.ferry('deploy', await cli.writeZip('build-1'), '--stage', 'dev', '--json');
 *   expect(result.code, result.stderr).toBe(0);
 *   await cli.stop();
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliDeps } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/main.js';
import { type FerryWorld, type FerryWorldOptions, makeFunctionZip, startFerryWorld } from './sandbox-harness.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json` runs). */
  json: <T = Record<string, unknown>>() => T;
}

export interface CliWorld {
  world: FerryWorld;
  /** The scratch directory the CLI runs in (removed by `stop`). */
  dir: string;
  ferry: (...argv: string[]) => Promise<CliResult>;
  /** Writes a function zip whose handler answers `name` into the scratch directory; returns its path. */
  writeZip: (name: string, bytes?: Uint8Array) => Promise<string>;
  stop: () => Promise<void>;
}

/** Runs the CLI in process and captures what it writes (`deps`: e.g. a clock for `now` and the runtime). */
export async function runFerry(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  deps: Partial<Omit<CliDeps, 'env' | 'cwd'>> = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    argv,
    {
      writeOut: (text) => {
        stdout += text;
      },
      writeErr: (text) => {
        stderr += text;
      },
    },
    { ...deps, env, cwd },
  );
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}

export async function startCliWorld(options: FerryWorldOptions): Promise<CliWorld> {
  const world = await startFerryWorld(options);
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cli-world-'));
  return {
    world,
    dir,
    ferry: (...argv) => runFerry(argv, { ...process.env, ...world.env }, dir),
    writeZip: async (name, bytes) => {
      const path = join(dir, `${name}.zip`);
      await writeFile(path, bytes ?? (await makeFunctionZip(name)));
      return path;
    },
    stop: async () => {
      await world.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
