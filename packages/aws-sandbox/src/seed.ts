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
import type { CreatedAccount, Sandbox, SandboxCredentials } from './index.js';

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
    /**
     * The identity of the printed environment: a session of this role, minted as an AWS service
     * mints one for the role it runs as (a CI job's role). Root keys cannot assume roles.
     */
    session: z
      .object({
        /** `<account name or id>/<role name>`, or a role ARN. */
        role: z.string(),
        name: z
          .string()
          .regex(/^[\w+=,.@-]{2,64}$/)
          .default('sandbox'),
        durationSeconds: z.number().int().min(900).max(43200).default(3600),
      })
      .strict()
      .optional(),
    /** More variables for the printed environment (settings the tools under test read). */
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
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

/**
 * Credentials for the seed's `session` role (or undefined without one), for the printed
 * environment: `role` is `<account name or id>/<role name>` or a role ARN.
 */
export function issueSeedSession(
  sandbox: Sandbox,
  seed: SeedFile,
  accounts: ReadonlyMap<string, CreatedAccount>,
): (SandboxCredentials & { roleArn: string }) | undefined {
  if (!seed.session) return undefined;
  const { role, name, durationSeconds } = seed.session;
  let roleArn = role;
  if (!role.startsWith('arn:')) {
    const [account, roleName, ...rest] = role.split('/');
    const accountId = accounts.get(account ?? '')?.accountId ?? (/^\d{12}$/.test(account ?? '') ? account : undefined);
    if (!accountId || !roleName || rest.length > 0) {
      throw new Error(`session.role "${role}": expected <account name or id>/<role name>, or a role ARN`);
    }
    roleArn = `arn:aws:iam::${accountId}:role/${roleName}`;
  }
  return { ...sandbox.issueRoleCredentials({ roleArn, sessionName: name, durationSeconds }), roleArn };
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
