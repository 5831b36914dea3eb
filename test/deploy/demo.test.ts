/**
 * `npm run demo` as a newcomer sees it: exits 0, announces every upload before the deployments it
 * causes, and keeps every line within the terminal's width.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('npm run demo', () => {
  it('announces every upload and wraps long lines to the width', { timeout: 180_000 }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/demo/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, COLUMNS: '80' },
      timeout: 170_000,
    });
    const lines = stdout.split('\n');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    const uploads = lines.filter((l) => l.startsWith('   ↑ CI uploads build '));
    expect(uploads.map((l) => /build (\S+)/.exec(l)?.[1])).toEqual(['1', '2', '3', '1']);
    // Build 2's new versions follow its own announcement, so v2 → v3 never reads as a duplicate of build 1's.
    const build2 = lines.findIndex((l) => l.startsWith('   ↑ CI uploads build 2 '));
    const v3 = lines.findIndex((l) => l.includes('deployed v2 → v3'));
    expect(build2).toBeGreaterThan(0);
    expect(v3).toBeGreaterThan(build2);
    // The corrupt upload's long reason continues on indented lines instead of running off the screen.
    const rejected = lines.findIndex((l) => l.includes('artifact rejected'));
    expect(lines[rejected + 1]).toMatch(/^ {5}\S/);
  });
});
