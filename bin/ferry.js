#!/usr/bin/env node
// The `ferry` command (npx ferry). Runs the esbuild bundle (dist/cli.mjs, from `npm run build`)
// when present; in a checkout without a build, runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli.mjs', import.meta.url);
let cli;
if (existsSync(bundle)) {
  cli = await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
await cli.main();
