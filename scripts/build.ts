/**
 * Bundles each Lambda handler (and the CLI) with esbuild: one file per entry, ESM, target node20
 * (runs on Lambda's nodejs22.x too). The sandbox is never bundled into a handler.
 */
import { build } from 'esbuild';

const handlers = ['artifact-uploaded', 'scheduled-promotion', 'codepipeline-action'];
const { existsSync } = await import('node:fs');

const entryPoints = Object.fromEntries(
  handlers
    .filter((name) => existsSync(`src/handlers/${name}.ts`))
    .map((name) => [`handlers/${name}`, `src/handlers/${name}.ts`]),
);
// The command line: `npx ferry` runs dist/cli.mjs (bin/ferry.js falls back to tsx without a build).
entryPoints.cli = 'src/cli/main.ts';

const result = await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Prefer the ES module builds (the SDK ships dist-es): esbuild can tree-shake them, unlike CommonJS.
  mainFields: ['module', 'main'],
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  minify: true,
  // Error classes keep their names, so logs and --json output say InputError, not a minified letter.
  keepNames: true,
  sourcemap: 'linked',
  metafile: true,
  // Some CommonJS dependencies call require(); give ESM bundles one.
  banner: {
    js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.mjs')) console.log(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB`);
}
