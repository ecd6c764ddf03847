// Start-up phase marks: with TSBPF_TIMING=1, each mark prints on stderr the CPU (user + system) and
// wall milliseconds since the previous one (the first since the process started), so where a
// command's start-up goes can be read off without a profiler, whose signals themselves disturb
// the verifier (EAGAIN) and the timings. Off, a mark is one boolean test.
const enabled = !!process.env.TSBPF_TIMING;
let lastCpu = 0;
let lastWall = 0;

export function mark(label: string): void {
  if (!enabled) return;
  const u = process.cpuUsage();
  const cpu = (u.user + u.system) / 1000;
  const wall = performance.now();
  process.stderr.write(`tsbpf timing: ${label.padEnd(28)} cpu ${(cpu - lastCpu).toFixed(1).padStart(6)} ms  wall ${(wall - lastWall).toFixed(1).padStart(6)} ms\n`);
  lastCpu = cpu;
  lastWall = wall;
}
