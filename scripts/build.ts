/**
 * Bundles each Lambda handler (and the CLI) with esbuild: one file per entry, ESM, target node20
 * (runs on Lambda's nodejs22.x too). The sandbox is never bundled into a handler.
 */
import { type BuildOptions, build } from 'esbuild';

const handlers = ['artifact-uploaded', 'scheduled-promotion', 'codepipeline-action'];
const { existsSync } = await import('node:fs');

const entryPoints = Object.fromEntries(
  handlers
    .filter((name) => existsSync(`src/handlers/${name}.ts`))
    .map((name) => [`handlers/${name}`, `src/handlers/${name}.ts`]),
);

const common: BuildOptions = {
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
};

// A handler is one file: Lambda loads it whole, once per container.
const handlersBuild = await build({ ...common, entryPoints });
// The command line: `npx ferry` runs dist/cli.mjs (bin/ferry.js falls back to tsx without a build).
// Split at its dynamic imports (dist/cli-chunks/), so a process parses and compiles only what the
// command it runs imports: `ferry deploy` never loads the traffic engine or CloudWatch's client.
const cliBuild = await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  splitting: true,
  chunkNames: 'cli-chunks/[name]-[hash]',
});

// What each CLI chunk holds, for test/deploy/bundle.test.ts (which modules a command loads).
const { writeFileSync } = await import('node:fs');
writeFileSync('dist/cli.meta.json', JSON.stringify(cliBuild.metafile));

for (const result of [handlersBuild, cliBuild])
  for (const [file, output] of Object.entries(result.metafile?.outputs ?? {})) {
    if (file.endsWith('.mjs') && !file.includes('cli-chunks/'))
      console.log(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB`);
  }
