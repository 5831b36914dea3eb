// Preloaded into a process under measurement (node --import): writes its own peak RSS to
// $FERRY_BENCH_PEAK_FILE when it exits. /proc/self/status VmHWM is this process's high-water
// mark alone; getrusage's maxRSS (process.resourceUsage) carries the parent's across fork and
// exec on Linux, so it is only the fallback.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const file = process.env.FERRY_BENCH_PEAK_FILE;
if (file) {
  process.on('exit', (code) => {
    writeFileSync(file, JSON.stringify({ maxRssBytes: readPeakRss(), exitCode: code }));
  });
}

/** This process's own peak RSS in bytes (also used by ferry-invocation.mjs). */
export function readPeakRss() {
  if (existsSync('/proc/self/status')) {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return process.resourceUsage().maxRSS * 1024;
}
