/**
 * The README's "Try the CLI against the sandbox" block, run verbatim from the repository root as a
 * newcomer would paste it, and the example seed's deploy roles checked against the real template.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { evaluate, parseTemplate, readSeedFile } from '@ferry/aws-sandbox';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../../src/core/config.js';

const ROOT = new URL('../../../', import.meta.url);
const HEADING = '## Try the CLI against the sandbox';

/** The one fenced shell block of the README section titled exactly HEADING. */
function extractTryBlock(readme: string): string {
  const start = readme.split('\n').indexOf(HEADING);
  if (start < 0) throw new Error(`README.md has no section titled exactly "${HEADING}"`);
  const rest = readme.split('\n').slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('## '));
  const section = rest.slice(0, end < 0 ? undefined : end).join('\n');
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
  if (blocks.length !== 1) throw new Error(`the section has ${blocks.length} sh blocks, expected one`);
  return blocks[0] ?? '';
}

/** A fresh shell's environment: no AWS or ferry settings leak in from the test process. */
function freshEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(AWS_|FERRY_|SANDBOX_)/.test(name) && !name.startsWith('npm_') && name !== 'NODE_OPTIONS',
    ),
  );
}

function runBash(script: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Its own process group, so whatever the block started is stopped even if it fails half-way.
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: ROOT,
      env: freshEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the README block "Try the CLI against the sandbox"', () => {
  it('runs verbatim from the repository root and exits 0', { timeout: 600_000 }, async () => {
    const block = extractTryBlock(readFileSync(new URL('README.md', ROOT), 'utf8'));
    for (const command of ['upload', 'deploy', 'status', 'history', 'promote', 'rollback', 'adopt']) {
      expect(block).toMatch(new RegExp(`npx ferry ${command}\\b`));
    }
    const run = await runBash(block, 560_000);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('6 stage(s) adopted');
    expect(run.stdout).toContain('orders-api build 2: succeeded');
    expect(run.stdout).toMatch(/promoted 2 from dev to staging/);
    expect(run.stdout).toMatch(/rolled dev back from 2 to 1/);
    expect(run.stderr).toContain('sandbox: ready');
    expect(run.stderr).toMatch(/sandbox: http:\/\/127\.0\.0\.1:\d+ stopped/);
  });

  it('finds the block only under the exact heading', () => {
    expect(() => extractTryBlock('## Try the CLI\n```sh\nls\n```\n')).toThrow(/no section titled exactly/);
    expect(extractTryBlock(`${HEADING}\ntext\n\`\`\`sh\necho hi\n\`\`\`\n## Next\n\`\`\`sh\nno\n\`\`\`\n`)).toBe(
      'echo hi\n',
    );
  });
});

describe('the examples', () => {
  it('seed the deploy roles exactly as templates/target-account-role.yml creates them, trusting the operator role', async () => {
    const seed = await readSeedFile(new URL('examples/sandbox-seed.yml', ROOT).pathname);
    const config = parseConfig(
      (parseYaml(readFileSync(new URL('examples/ferry.config.yml', ROOT), 'utf8')) as { ferry: unknown }).ferry,
      'examples/ferry.config.yml',
    );
    const template = parseTemplate(readFileSync(new URL('templates/target-account-role.yml', ROOT), 'utf8')) as {
      Resources: { DeployRole: unknown };
    };
    const idOf = (name: string) => seed.accounts.find((a) => a.name === name)?.id ?? name;
    const targets = Object.values(config.apps).flatMap((app) => Object.values(app.targets).flat());
    const accounts = [...new Set(targets.map((t) => t.accountId))];
    expect(accounts).toHaveLength(3);
    for (const accountId of accounts) {
      const roleName =
        targets
          .find((t) => t.accountId === accountId)
          ?.roleArn.split('/')
          .at(-1) ?? '';
      const seeded = seed.roles.find((r) => idOf(r.account) === accountId && r.name === roleName);
      expect(seeded, `deploy role in ${accountId}`).toBeDefined();
      const role = evaluate(template.Resources.DeployRole, {
        parameters: {
          FerryRoleArns: `arn:aws:iam::${idOf(seed.session?.role.split('/')[0] ?? '')}:role/${seed.session?.role.split('/')[1]}`,
          ExternalId: targets.find((t) => t.accountId === accountId)?.externalId ?? '',
          FunctionNames: [...new Set(targets.filter((t) => t.accountId === accountId).map((t) => t.functionName))].join(
            ',',
          ),
          AppNames: Object.entries(config.apps)
            .filter(([, app]) => Object.values(app.targets).some((list) => list.some((t) => t.accountId === accountId)))
            .map(([name]) => name)
            .sort()
            .join(','),
          ArtifactBucketName: config.artifactBucket,
          ArtifactPrefix: config.artifactPrefix,
          RoleName: roleName,
          AlarmNames: 'none',
        },
        accountId,
        region: config.region,
      }) as { Properties: { AssumeRolePolicyDocument: unknown; Policies: { PolicyDocument: unknown }[] } };
      expect(normalisePolicy(seeded?.trustPolicy)).toEqual(normalisePolicy(role.Properties.AssumeRolePolicyDocument));
      // The seed may split the template's one policy into several documents: IAM evaluates their union.
      const statementsOf = (documents: unknown) =>
        (documents as { Statement: unknown[] }[]).flatMap((d) => d.Statement);
      expect(normalisePolicy(statementsOf(seeded?.policies))).toEqual(
        normalisePolicy(statementsOf(role.Properties.Policies.map((p) => p.PolicyDocument))),
      );
    }
    // Every configured function exists in the seed, behind the configured alias.
    for (const t of targets) {
      expect(
        seed.functions.some(
          (f) => idOf(f.account) === t.accountId && f.name === t.functionName && f.aliases.includes(t.alias),
        ),
      ).toBe(true);
    }
  });
});

/**
 * IAM reads a condition's value list as a set: repeated values and a one-element list mean the
 * same as the single value (the template lists ferry's role and the traffic tick's role, which is
 * the same ARN when the operator role is not named `…-exec`).
 */
function normalisePolicy(node: unknown, key = ''): unknown {
  if (Array.isArray(node)) {
    const items = node.map((item) => normalisePolicy(item));
    if (key.includes(':') && items.every((item) => typeof item === 'string')) {
      const unique = [...new Set(items)];
      return unique.length === 1 ? unique[0] : unique;
    }
    return items;
  }
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, normalisePolicy(v, k)]));
  }
  return node;
}
