/**
 * Configurations for integration tests and a log recorder. Each test starts its own world
 * (fresh sandbox state) and stops it afterwards.
 */
import type { DeployLog } from '../../src/engine/deploy-build.js';

export const TWO_ACCOUNTS = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-sandbox-external-id',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [
          { account: '222222222222', function: 'orders-api' },
          { account: '333333333333', function: 'orders-api' },
        ],
      },
    },
  },
};

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

export function recordLog(): DeployLog & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const push =
    (level: LogLine['level']) =>
    (message: string, ...attributes: Record<string, unknown>[]) =>
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) });
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}
