// Preloaded into a `ferry` process (node --import): records every HTTP request it makes, with the
// time it started and the time its response arrived, and writes them to $FERRY_BENCH_TRACE_FILE
// when the process exits. The benchmark derives the sequential round trips on ferry's critical
// path from these intervals. Observes only (diagnostics_channel); changes nothing.
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

const file = process.env.FERRY_BENCH_TRACE_FILE;
const started = new WeakMap();
const trips = [];

if (file) {
  subscribe('http.client.request.start', ({ request }) => {
    started.set(request, performance.now());
  });
  subscribe('http.client.response.finish', ({ request }) => {
    const start = started.get(request);
    if (start === undefined) return;
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(request.getHeader('authorization') ?? ''));
    trips.push({
      service: scope?.[1] ?? 'unsigned',
      method: request.method,
      path: String(request.path).split('?')[0],
      startMs: start,
      endMs: performance.now(),
    });
  });
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ processMs: performance.now(), trips }));
  });
}
