// Imports one module in a fresh process and prints how long the import took, as JSON on stdout.
// The benchmark also times the whole process against importing an empty module.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) throw new Error('usage: node import-bundle.mjs <module>');
const started = performance.now();
await import(pathToFileURL(file).href);
const importMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ importMs, sinceProcessStartMs: performance.now() })}\n`);
