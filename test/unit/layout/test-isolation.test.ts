/**
 * Test files share a worker's modules (vitest.config.ts, isolate: false), so a file must not leave
 * a patched global behind for the next one: aws-sdk-client-mock patches the client class's send
 * for every instance, including the real clients the sandbox tests build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url);

function testFiles(): string[] {
  return ['test', 'packages']
    .flatMap((dir) => readdirSync(new URL(dir, ROOT), { recursive: true, encoding: 'utf8' }).map((f) => `${dir}/${f}`))
    .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules'));
}

describe('test files leave no global behind', () => {
  it('restores every client they mock', () => {
    const mocking = testFiles().filter((f) =>
      /from '(aws-sdk-client-mock)'/.test(readFileSync(new URL(f, ROOT), 'utf8')),
    );
    expect(mocking.length).toBeGreaterThan(0);
    const unrestored = mocking.filter((f) => !/\.restore\(\)/.test(readFileSync(new URL(f, ROOT), 'utf8')));
    expect(unrestored).toEqual([]);
  });
});
