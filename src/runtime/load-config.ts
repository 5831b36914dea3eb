/**
 * Loads ferry's configuration once per process (cold start) from FERRY_CONFIG (the text itself;
 * serverless.yml sets it as JSON from variables.<stage>.yml) or FERRY_CONFIG_FILE (a path). A
 * top-level `ferry:` key is unwrapped, so variables.dev.yml itself is a valid configuration file.
 *
 * The Lambda handlers parse JSON only, which keeps a YAML parser out of their bundles; the CLI
 * passes a YAML parser (`parseYamlText` from load-config-yaml.ts), which reads JSON too.
 */
import { readFileSync } from 'node:fs';
import { type FerryConfig, parseConfig } from '../core/config.js';
import { ConfigurationError } from '../core/errors.js';

export type TextParser = (text: string) => unknown;

let cached: FerryConfig | undefined;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, parseText: TextParser = JSON.parse): FerryConfig {
  cached ??= readConfig(env, parseText);
  return cached;
}

export function readConfig(env: NodeJS.ProcessEnv, parseText: TextParser = JSON.parse): FerryConfig {
  if (env.FERRY_CONFIG) return parseConfigText(env.FERRY_CONFIG, 'FERRY_CONFIG', parseText);
  if (env.FERRY_CONFIG_FILE) {
    let text: string;
    try {
      text = readFileSync(env.FERRY_CONFIG_FILE, 'utf8');
    } catch (cause) {
      throw new ConfigurationError(
        'CONFIG_UNREADABLE',
        `FERRY_CONFIG_FILE names ${env.FERRY_CONFIG_FILE}, which cannot be read. Point it at ferry's configuration file.`,
        { cause },
      );
    }
    return parseConfigText(text, env.FERRY_CONFIG_FILE, parseText);
  }
  throw new ConfigurationError(
    'CONFIG_MISSING',
    'No configuration: set FERRY_CONFIG to the configuration text or FERRY_CONFIG_FILE to a file holding it.',
  );
}

export function parseConfigText(text: string, source: string, parseText: TextParser = JSON.parse): FerryConfig {
  let raw: unknown;
  try {
    raw = parseText(text);
  } catch (cause) {
    throw new ConfigurationError('CONFIG_UNPARSABLE', `${source} cannot be parsed: ${String(cause)}`, { cause });
  }
  const unwrapped = raw !== null && typeof raw === 'object' && 'ferry' in raw ? (raw as { ferry: unknown }).ferry : raw;
  return parseConfig(unwrapped, source);
}
