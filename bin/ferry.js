#!/usr/bin/env node
// The `ferry` command (npx ferry). Runs the esbuild bundle (dist/cli.mjs, from `npm run build`)
// when it is at least as new as every source file; in a checkout without a build, or with a
// bundle older than the sources, runs the TypeScript sources through tsx, and says so: a stale
// bundle never runs silently.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/cli.mjs', import.meta.url);
const sources = new URL('../src/', import.meta.url);

/** The newest modification time of any file under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const mtime = statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

async function loadSources() {
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL('cli/main.ts', sources).href);
}

let cli;
if (!existsSync(bundle)) {
  cli = await loadSources();
} else if (statSync(bundle).mtimeMs < newestMtime(fileURLToPath(sources))) {
  let fromSources;
  try {
    fromSources = await loadSources();
  } catch {
    // No tsx here (an install without dev dependencies): the bundle is all there is.
  }
  process.stderr.write(
    fromSources
      ? 'ferry: dist/cli.mjs is older than src/, so the sources run instead (npm run build refreshes it).\n'
      : 'ferry: warning: dist/cli.mjs is older than src/ and tsx is not installed to run the sources; run npm run build.\n',
  );
  cli = fromSources ?? (await import(bundle.href));
} else {
  cli = await import(bundle.href);
}
await cli.main();
