// Preloaded with `node --import` into a measured process: at exit it writes the process's
// own resource usage (peak RSS, CPU time) as JSON to $BENCH_USAGE_FILE. Measuring from
// inside needs nothing installed (no /usr/bin/time) and counts only this process.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    // maxRSS is in kilobytes; CPU times in microseconds.
    writeFileSync(file, JSON.stringify({ maxRssKb: u.maxRSS, userCpuUs: u.userCPUTime, systemCpuUs: u.systemCPUTime }));
  });
}
