/**
 * What a command receives: its output, the configuration (found the way the CLI documents), a
 * runtime built from the caller's credential chain, and the engine. Everything is injectable, so
 * tests run commands in-process with fakes; the engine and the AWS SDK load only when a command
 * needs them, which keeps `--help` and `config check` fast.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { FerryConfig } from '../core/config.js';
import { ConfigurationError } from '../core/errors.js';
import type { DeployLog } from '../engine/deploy-build.js';
import type { Runtime, RuntimeOptions } from '../runtime/create-runtime.js';
import { readConfig } from '../runtime/load-config.js';
import type { CliEngine } from './engine.js';
import type { CliIo } from './output.js';

/** Options every command accepts. */
export interface CommonOptions {
  readonly json?: boolean;
  readonly config?: string;
  readonly region?: string;
}

export interface CliDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
  readonly createRuntime: (config: FerryConfig, options: RuntimeOptions) => Runtime | Promise<Runtime>;
  readonly loadEngine: () => CliEngine | Promise<CliEngine>;
}

export interface LoadedConfig {
  readonly config: FerryConfig;
  /** Where it came from: a file path, or FERRY_CONFIG. */
  readonly source: string;
}

export interface CommandContext {
  readonly io: CliIo;
  readonly deps: CliDeps;
  /** The engine's log: silent unless FERRY_DEBUG=1 (results and progress lines carry what people need). */
  readonly log: DeployLog;
  readonly debug: boolean;
  loadConfig(options: CommonOptions): LoadedConfig;
  openRuntime(config: FerryConfig): Promise<Runtime>;
  engine(): Promise<CliEngine>;
}

/** Files tried, in order, when neither --config nor FERRY_CONFIG / FERRY_CONFIG_FILE says where. */
export const DEFAULT_CONFIG_FILES = ['ferry.config.yml', 'variables.dev.yml'] as const;

export function createCommandContext(io: CliIo, deps: CliDeps): CommandContext {
  const debug = deps.env.FERRY_DEBUG === '1' || deps.env.FERRY_DEBUG === 'true';
  return {
    io,
    deps,
    debug,
    log: debug ? createStderrLog(io) : SILENT_LOG,
    loadConfig: (options) => loadCliConfig(options, deps),
    openRuntime: async (config) => deps.createRuntime(config, { env: deps.env }),
    engine: async () => deps.loadEngine(),
  };
}

/**
 * The configuration, from the first of: --config <file>, FERRY_CONFIG (text), FERRY_CONFIG_FILE,
 * ./ferry.config.yml, ./variables.dev.yml (its `ferry:` section). YAML or JSON. `--region`
 * replaces the region of ferry's own clients (artifact bucket, STS); targets keep theirs.
 */
export function loadCliConfig(options: CommonOptions, deps: Pick<CliDeps, 'env' | 'cwd'>): LoadedConfig {
  const { source, env } = chooseConfigSource(options, deps);
  let config: FerryConfig;
  try {
    config = readConfig(env, parseYaml);
  } catch (error) {
    if (options.config && error instanceof ConfigurationError && error.code === 'CONFIG_UNREADABLE') {
      throw new ConfigurationError('CONFIG_UNREADABLE', `--config names ${source}, which cannot be read.`, {
        cause: error.cause,
      });
    }
    throw error;
  }
  return { config: options.region ? { ...config, region: options.region } : config, source };
}

function chooseConfigSource(
  options: CommonOptions,
  deps: Pick<CliDeps, 'env' | 'cwd'>,
): { source: string; env: NodeJS.ProcessEnv } {
  if (options.config) {
    const file = resolve(deps.cwd, options.config);
    return { source: file, env: { FERRY_CONFIG_FILE: file } };
  }
  if (deps.env.FERRY_CONFIG) return { source: 'FERRY_CONFIG', env: { FERRY_CONFIG: deps.env.FERRY_CONFIG } };
  if (deps.env.FERRY_CONFIG_FILE) {
    const file = resolve(deps.cwd, deps.env.FERRY_CONFIG_FILE);
    return { source: file, env: { FERRY_CONFIG_FILE: file } };
  }
  for (const name of DEFAULT_CONFIG_FILES) {
    const file = resolve(deps.cwd, name);
    if (existsSync(file)) return { source: file, env: { FERRY_CONFIG_FILE: file } };
  }
  throw new ConfigurationError(
    'CONFIG_MISSING',
    `No configuration found: pass --config <file>, set FERRY_CONFIG_FILE (a path) or FERRY_CONFIG (the text), or run where ${DEFAULT_CONFIG_FILES.join(' or ')} exists.`,
  );
}

const SILENT_LOG: DeployLog = { info() {}, warn() {}, error() {} };

function createStderrLog(io: CliIo): DeployLog {
  const write =
    (level: string) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      io.writeErr(`${JSON.stringify({ level, message, ...Object.assign({}, ...attributes) })}\n`);
    };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
