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
  } catch (error) {
    // No `cause`: the parser's error quotes the offending line, and that line may be the externalId.
    throw new ConfigurationError(
      'CONFIG_UNPARSABLE',
      `${source} cannot be parsed: ${describeSyntaxError(error, text)}. Fix the syntax there; the text itself is not shown because configuration lines can hold secrets such as externalId.`,
    );
  }
  const unwrapped = raw !== null && typeof raw === 'object' && 'ferry' in raw ? (raw as { ferry: unknown }).ferry : raw;
  return parseConfig(unwrapped, source);
}

/**
 * Where a YAML or JSON syntax error is, without any of the text: both parsers quote the source
 * (YAML prints the line under a caret, Node's JSON.parse a snippet), and some YAML messages embed
 * the offending token. The YAML error code is a fixed identifier, safe to show.
 */
export function describeSyntaxError(error: unknown, text: string): string {
  if (error instanceof Error) {
    const { code, linePos } = error as Error & {
      code?: unknown;
      linePos?: ReadonlyArray<{ line: number; col: number }>;
    };
    const start = linePos?.[0];
    if (start && typeof code === 'string' && /^[A-Z_]+$/.test(code)) {
      return `YAML syntax error ${code} at line ${start.line}, column ${start.col}`;
    }
    const position = /\bposition (\d+)/.exec(error.message);
    if (error instanceof SyntaxError && position?.[1] !== undefined) {
      const before = text.slice(0, Number(position[1])).split('\n');
      return `JSON syntax error at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    }
  }
  return 'syntax error';
}
