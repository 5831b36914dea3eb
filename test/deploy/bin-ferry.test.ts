/**
 * bin/ferry.js runs the bundle only when it is at least as new as the sources; otherwise it runs
 * the sources and says so on stderr. Checked on a scratch copy with a fake bundle and fake sources.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-bin-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist'));
  mkdirSync(path.join(dir, 'src/cli'), { recursive: true });
  cpSync(path.join(ROOT, 'bin/ferry.js'), path.join(dir, 'bin/ferry.js'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(path.join(dir, 'dist/cli.mjs'), "export async function main() { process.stdout.write('bundle'); }\n");
  writeFileSync(
    path.join(dir, 'src/cli/main.ts'),
    "export async function main(): Promise<void> { process.stdout.write('sources'); }\n",
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const setAge = (file: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path.join(dir, file), t, t);
};
const runBin = () => promisify(execFile)(process.execPath, [path.join(dir, 'bin/ferry.js')], { cwd: dir });

describe('bin/ferry.js', () => {
  it('runs a bundle newer than every source, silently', async () => {
    setAge('src/cli/main.ts', 60);
    const { stdout, stderr } = await runBin();
    expect(stdout).toBe('bundle');
    expect(stderr).toBe('');
  });

  it('never runs a bundle older than the sources: it runs the sources and says why', async () => {
    setAge('dist/cli.mjs', 60);
    const { stdout, stderr } = await runBin();
    expect(stdout).toBe('sources');
    expect(stderr).toBe(
      'ferry: dist/cli.mjs is older than src/, so the sources run instead (npm run build refreshes it).\n',
    );
  });

  it('runs the sources when there is no bundle', async () => {
    rmSync(path.join(dir, 'dist'), { recursive: true });
    const { stdout, stderr } = await runBin();
    expect(stdout).toBe('sources');
    expect(stderr).toBe('');
  });
});
