/**
 * Seed files for the sandbox CLI (YAML or JSON): accounts, roles, buckets, functions and alarms, so a
 * newcomer or a benchmark starts from a known world. Unknown keys are errors, so a typo never
 * silently seeds nothing.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ZipFile } from 'yazl';
import { z } from 'zod';
import type { CreatedAccount, Sandbox } from './index.js';

const policySchema = z.union([z.string(), z.object({ Statement: z.unknown() }).passthrough()]);

const seedSchema = z
  .object({
    accounts: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z][\w-]*$/),
            id: z
              .string()
              .regex(/^\d{12}$/)
              .optional(),
            accessKeyId: z.string().optional(),
            secretAccessKey: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    roles: z
      .array(
        z
          .object({
            account: z.string(),
            name: z.string(),
            trustPolicy: policySchema,
            policies: z.array(policySchema).default([]),
            maxSessionDuration: z.number().int().optional(),
          })
          .strict(),
      )
      .default([]),
    buckets: z
      .array(
        z
          .object({
            account: z.string(),
            name: z.string(),
            region: z.string().optional(),
            versioning: z.boolean().default(false),
            policy: policySchema.optional(),
          })
          .strict(),
      )
      .default([]),
    functions: z
      .array(
        z
          .object({
            account: z.string(),
            name: z.string(),
            region: z.string().optional(),
            runtime: z.string().optional(),
            handler: z.string().optional(),
            role: z.string().optional(),
            /** JavaScript source, zipped as index.mjs. */
            source: z.string().optional(),
            /** Path of a zip, relative to the seed file. */
            zipFile: z.string().optional(),
            aliases: z.array(z.string()).default([]),
          })
          .strict()
          .refine(
            (f) => (f.source === undefined) !== (f.zipFile === undefined),
            'give exactly one of source or zipFile',
          ),
      )
      .default([]),
    /** CloudWatch metric alarms (defaults as sandbox.cloudwatch.putMetricAlarm: AWS/Lambda Errors Sum 60 s ≥ 1). */
    alarms: z
      .array(
        z
          .object({
            account: z.string(),
            name: z.string().min(1).max(255),
            region: z.string().optional(),
            namespace: z.string().optional(),
            metricName: z.string().optional(),
            dimensions: z.record(z.string(), z.string()).optional(),
            statistic: z.string().optional(),
            period: z.number().int().positive().optional(),
            evaluationPeriods: z.number().int().positive().optional(),
            threshold: z.number().optional(),
            comparisonOperator: z.string().optional(),
            state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']).optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type SeedFile = z.infer<typeof seedSchema>;

export async function readSeedFile(path: string): Promise<SeedFile> {
  const text = await readFile(path, 'utf8');
  const parsed: unknown = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  const result = seedSchema.safeParse(parsed ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid seed file ${path}:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** Creates everything in the seed; returns the accounts by seed name. */
export async function applySeed(
  sandbox: Sandbox,
  seed: SeedFile,
  baseDir: string,
  defaultRegion: string,
): Promise<Map<string, CreatedAccount>> {
  const accounts = new Map<string, CreatedAccount>();
  for (const account of seed.accounts) {
    const keys = {
      ...(account.accessKeyId ? { accessKeyId: account.accessKeyId } : {}),
      ...(account.secretAccessKey ? { secretAccessKey: account.secretAccessKey } : {}),
    };
    accounts.set(account.name, sandbox.createAccount(account.id, keys));
  }
  const accountIdOf = (reference: string): string => {
    const found = accounts.get(reference)?.accountId ?? (/^\d{12}$/.test(reference) ? reference : undefined);
    if (!found) throw new Error(`seed refers to unknown account "${reference}"`);
    return found;
  };
  for (const role of seed.roles) {
    sandbox.createRole({
      accountId: accountIdOf(role.account),
      roleName: role.name,
      trustPolicy: role.trustPolicy as never,
      policies: role.policies as never,
      ...(role.maxSessionDuration ? { maxSessionDuration: role.maxSessionDuration } : {}),
    });
  }
  for (const bucket of seed.buckets) {
    sandbox.createBucket({
      accountId: accountIdOf(bucket.account),
      name: bucket.name,
      region: bucket.region ?? defaultRegion,
      versioning: bucket.versioning,
      ...(bucket.policy ? { policy: bucket.policy as never } : {}),
    });
  }
  for (const fn of seed.functions) {
    const accountId = accountIdOf(fn.account);
    const zip = fn.zipFile ? await readFile(resolve(baseDir, fn.zipFile)) : await buildSourceZip(fn.source ?? '');
    sandbox.lambda.seedFunction({
      accountId,
      region: fn.region ?? defaultRegion,
      functionName: fn.name,
      zip,
      ...(fn.runtime ? { runtime: fn.runtime } : {}),
      ...(fn.handler ? { handler: fn.handler } : {}),
      roleArn: fn.role ?? `arn:aws:iam::${accountId}:role/${fn.name}-execution`,
      aliases: fn.aliases,
    });
  }
  for (const alarm of seed.alarms) {
    sandbox.cloudwatch.putMetricAlarm({
      accountId: accountIdOf(alarm.account),
      region: alarm.region ?? defaultRegion,
      alarmName: alarm.name,
      ...(alarm.namespace ? { namespace: alarm.namespace } : {}),
      ...(alarm.metricName ? { metricName: alarm.metricName } : {}),
      ...(alarm.dimensions ? { dimensions: alarm.dimensions } : {}),
      ...(alarm.statistic ? { statistic: alarm.statistic } : {}),
      ...(alarm.period ? { period: alarm.period } : {}),
      ...(alarm.evaluationPeriods ? { evaluationPeriods: alarm.evaluationPeriods } : {}),
      ...(alarm.threshold !== undefined ? { threshold: alarm.threshold } : {}),
      ...(alarm.comparisonOperator ? { comparisonOperator: alarm.comparisonOperator } : {}),
      ...(alarm.state ? { stateValue: alarm.state } : {}),
    });
  }
  return accounts;
}

export function resolveSeedDir(path: string): string {
  return dirname(resolve(path));
}

/** A one-file deployment package: the source as index.mjs (handler `index.handler`). */
export function buildSourceZip(source: string): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const zip = new ZipFile();
    // A fixed mtime keeps the zip, and so its CodeSha256, identical across runs.
    zip.addBuffer(Buffer.from(source), 'index.mjs', { mtime: new Date('2020-01-01T00:00:00Z') });
    zip.end();
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolvePromise(Buffer.concat(chunks)));
  });
}
