/**
 * variables.<stage>.yml is the single source for ferry's runtime configuration, IAM and schedules.
 * These tests check the shipped dev file against ferry's own parser and the derivation rules in
 * serverless/ferry-values.cjs, without running the framework.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as configModule from '../../src/core/config.js';
import type { Loose } from './cloudformation.js';

const require = createRequire(import.meta.url);
const values = require('../../serverless/ferry-values.cjs') as {
  deriveValues: (
    stage: string,
    options?: { serviceDir?: string; configModule?: unknown },
  ) => Promise<Record<string, Loose>>;
  readVariables: (stage: string, serviceDir?: string) => Record<string, Loose>;
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scratch: string[] = [];

/** A service directory holding one variables file, changed by `edit`. */
function serviceDirWith(edit: (vars: Record<string, Loose>) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-vars-'));
  scratch.push(dir);
  const vars = values.readVariables('dev', ROOT);
  edit(vars);
  writeFileSync(path.join(dir, 'variables.dev.yml'), JSON.stringify(vars));
  return dir;
}

afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('variables.dev.yml', () => {
  it('has a ferry section that parseConfig accepts', () => {
    const vars = values.readVariables('dev', ROOT);
    const config = configModule.parseConfig(vars.ferry, 'variables.dev.yml');
    expect(config.stages.map((s) => s.name)).toEqual(['dev', 'staging', 'prod']);
    expect(config.stages.filter((s) => s.acceptsUploads).map((s) => s.name)).toEqual(['dev']);
    expect(Object.keys(config.apps).length).toBeGreaterThanOrEqual(1);
  });

  it('writes each account id once and refers to it by YAML alias', () => {
    const text = readFileSync(path.join(ROOT, 'variables.dev.yml'), 'utf8');
    for (const account of ['222222222222', '333333333333', '444444444444']) {
      expect(text.split(account).length - 1, account).toBe(1);
    }
  });
});

describe('deriving the deployment values', () => {
  it('derives the deploy roles with ferry’s own resolution rules', async () => {
    const derived = await values.deriveValues('dev', { serviceDir: ROOT, configModule });
    const vars = values.readVariables('dev', ROOT);
    expect(derived.deployRoleArns).toEqual(configModule.listDeployRoleArns(configModule.parseConfig(vars.ferry)));
    expect(derived.targetAccounts).toEqual(['222222222222', '333333333333', '444444444444']);
    expect(JSON.parse(derived.ferryConfigJson)).toEqual(vars.ferry);
    expect(derived.trustedRoleArns).toEqual(
      ['upload', 'promote', 'pipeline', 'traffic'].map(
        (r) => `arn:aws:iam::111111111111:role/ferry-dev-eu-west-1-${r}`,
      ),
    );
    expect(derived.trustedRoleArnsParameter).toBe(derived.trustedRoleArns.join(','));
  });

  it('loads parseConfig through tsx when the framework calls it', async () => {
    const derived = await values.deriveValues('dev', { serviceDir: ROOT });
    expect(derived.deployRoleArns).toHaveLength(3);
  });

  it('turns a schedule without app, from and to into the "every rule" input', async () => {
    const dir = serviceDirWith((vars) => {
      vars.schedules = [{ cron: 'rate(1 hour)' }];
    });
    const derived = await values.deriveValues('dev', { serviceDir: dir, configModule });
    expect(derived.promotionEvents).toEqual([
      { schedule: { rate: ['rate(1 hour)'], enabled: true, description: 'ferry: every promotion rule', input: {} } },
    ]);
  });

  it('exempts ferry’s roles and the listed ledger writers, exact ARNs only, from the ledger Deny', async () => {
    const operator = 'arn:aws:iam::111111111111:role/ferry-operator';
    const derived = await values.deriveValues('dev', {
      serviceDir: serviceDirWith((vars) => {
        vars.ledgerWriters = [operator];
      }),
      configModule,
    });
    expect(derived.ledgerWriterArns).toEqual([...derived.trustedRoleArns, operator]);
    for (const bad of ['*', 'arn:aws:iam::111111111111:role/*', 'arn:aws:iam::111111111111:root', 42]) {
      const dir = serviceDirWith((vars) => {
        vars.ledgerWriters = [bad];
      });
      await expect(values.deriveValues('dev', { serviceDir: dir, configModule }), String(bad)).rejects.toThrow(
        /ledgerWriters\[0\] must be the exact ARN/,
      );
    }
  });

  it('refuses a schedule for a promotion rule the app does not have', async () => {
    const dir = serviceDirWith((vars) => {
      vars.schedules = [{ app: 'orders-api', from: 'dev', to: 'prod', cron: 'cron(0 6 * * ? *)' }];
    });
    await expect(values.deriveValues('dev', { serviceDir: dir, configModule })).rejects.toThrow(
      /schedules\[0\]: app 'orders-api' has no promotion rule from 'dev' to 'prod'/,
    );
  });

  it('refuses a ferry section that parseConfig rejects, naming the field', async () => {
    const dir = serviceDirWith((vars) => {
      vars.ferry.apps['orders-api'].targets.dev[0].acount = '222222222222';
    });
    await expect(values.deriveValues('dev', { serviceDir: dir, configModule })).rejects.toThrow(/acount/);
  });

  it('refuses a configuration too large for Lambda’s 4 KB of environment variables', async () => {
    const dir = serviceDirWith((vars) => {
      for (let i = 0; i < 40; i++) {
        vars.ferry.apps[`app-${i}`] = {
          targets: { dev: [{ account: '222222222222', function: `function-number-${i}` }] },
        };
      }
    });
    await expect(values.deriveValues('dev', { serviceDir: dir, configModule })).rejects.toThrow(/bytes as JSON/);
  });

  it('refuses unknown top-level keys, so a typo never silently does nothing', async () => {
    const dir = serviceDirWith((vars) => {
      vars.schedule = [];
    });
    await expect(values.deriveValues('dev', { serviceDir: dir, configModule })).rejects.toThrow(
      /unknown top-level keys schedule/,
    );
  });
});
