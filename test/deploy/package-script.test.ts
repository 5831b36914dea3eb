/**
 * `npm run package` with a broken variables file: each problem as its field and the fix, exit 2,
 * no stack trace, and osls never starts.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-package-script-'));
  for (const entry of ['package.json', 'serverless', 'scripts', 'src']) {
    cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const variables = readFileSync(path.join(ROOT, 'variables.dev.yml'), 'utf8')
    .replace(/^ {2}keepVersions: 10$/m, '  keepVersion: 10')
    .replace("dev: &dev '222222222222'", 'dev: &dev 222222222222');
  writeFileSync(path.join(dir, 'variables.dev.yml'), variables);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runPackage(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/package.ts'], { cwd: dir }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run package with a configuration error', () => {
  it('prints each field and its fix without a stack trace, and exits 2', async () => {
    const run = await runPackage();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('npm run package: variables.dev.yml cannot be packaged:\n');
    expect(run.stderr).toContain("  - (root): unknown key 'keepVersion' (did you mean 'keepVersions'?)\n");
    expect(run.stderr).toMatch(
      / {2}- apps\.orders-api\.targets\.dev\[0\]\.account: expected a 12-digit AWS account id as a string: quote it in YAML/,
    );
    expect(run.stderr).toContain('Fix the field named above in variables.dev.yml, then run npm run package again.');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
  });
});
