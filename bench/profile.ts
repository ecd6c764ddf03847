// profile: the post-processing of an all-CPU profile at 99 Hz for SECONDS (default 30) — reading the
// kernel's stack counts, symbolizing (kernel, ELF, JIT perf maps, demangling) and writing folded
// stacks — by `tsbpf profile -F 99 --folded FILE SECONDS` (bin/tsbpf, as users run it): wall time
// from the end of sampling to the process's exit, and its peak RSS. Goals: ≤ 1 s, ≤ 150 MB. The
// reference, in the same run: bpftrace's `profile:hz:99 { @[kstack, ustack, comm] = count() }`
// printing its map at exit (its symbolization takes minutes: it runs once, in the first round). While both sample, the machine runs a JIT workload (node
// --perf-basic-prof) and a C++ one (deep demangled names) besides whatever else it runs. Runs
// alternate; medians of RUNS; the ratio per run (tsbpf's post-processing / bpftrace's) is refused
// when the runs disagree by more than 15 %.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, root } from './report.js';
import { median, spread, waitQuiet } from './lib/rounds.js';

const SECONDS = Number(process.env.SECONDS ?? 30);
const RUNS = Number(process.env.RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-profile-'));

const CXX = `
#include <map>
#include <string>
#include <vector>
#include <chrono>
namespace bench { namespace deep {
template <typename T> struct Work {
  std::map<std::string, std::vector<T>> m;
  __attribute__((noinline)) T churn(int n) { T s{}; for (int i = 0; i < n; i++) { auto &v = m[std::to_string(i % 97)]; v.push_back(T(i)); if (v.size() > 64) v.clear(); s += v.back(); } return s; }
};
} }
int main(int argc, char **argv) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(atoi(argv[1]));
  bench::deep::Work<double> w; double s = 0;
  while (std::chrono::steady_clock::now() < end) s += w.churn(10000);
  return s == 42;
}
`;
const JS = 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); } const end = Date.now() + Number(process.argv[2]) * 1000; while (Date.now() < end) fib(24);';

function workloads(seconds: number): ChildProcess[] {
  const bin = join(root, 'bench/bin/profile-cxx');
  mkdirSync(join(root, 'bench/bin'), { recursive: true });
  writeFileSync(join(dir, 'w.cc'), CXX);
  execFileSync('g++', ['-O1', '-fno-omit-frame-pointer', join(dir, 'w.cc'), '-o', bin]);
  writeFileSync(join(dir, 'w.js'), JS);
  return [spawn(bin, [String(seconds)], { stdio: 'ignore' }), spawn(process.execPath, ['--perf-basic-prof', join(dir, 'w.js'), String(seconds)], { stdio: 'ignore' })];
}

interface Run {
  /** s from the end of sampling to exit */
  post: number;
  /** peak RSS, MB */
  rssMb: number;
}

/**
 * Run `cmd` under /usr/bin/time; sampling starts at the first line matching `started` (stderr or
 * stdout) and lasts SECONDS; post-processing is the rest of its life.
 */
function timed(cmd: string[], started: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/time', ['-f', 'maxrss %M', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let t0 = 0;
    let err = '';
    const look = (d: Buffer): void => {
      if (!t0 && started.test(d.toString())) t0 = performance.now();
    };
    p.stdout!.on('data', look);
    p.stderr!.on('data', (d: Buffer) => ((err += d.toString()), look(d)));
    p.on('close', (code) => {
      const end = performance.now();
      const rss = /maxrss (\d+)/.exec(err);
      if (code !== 0 || !rss || !t0) return reject(new Error(`${cmd.join(' ')} exited ${code}: ${err.slice(-400)}`));
      resolve({ post: (end - t0) / 1000 - SECONDS, rssMb: Number(rss[1]) / 1024 });
    });
  });
}

const folded = join(dir, 'out.folded');
const ours = (): Promise<Run> => timed([process.execPath, join(root, 'bin/tsbpf'), 'profile', '-F', '99', '--folded', folded, String(SECONDS)], /Sampling at/);
const bpftrace = (): Promise<Run> =>
  timed(['bpftrace', '-e', `profile:hz:99 { @[kstack, ustack, comm] = count(); } interval:s:${SECONDS} { exit(); }`], /Attaching/);

try {
  const load = await waitQuiet();
  const o: Run[] = [];
  const b: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const who of r === 0 ? ['tsbpf', 'bpftrace'] : ['tsbpf']) {
      const w = workloads(SECONDS + 15);
      try {
        await new Promise((res) => setTimeout(res, 300));
        if (who === 'tsbpf') o.push(await ours());
        else b.push(await bpftrace());
      } finally {
        for (const p of w) p.kill();
      }
    }
    console.log(`run ${r + 1}/${RUNS}: tsbpf ${o.at(-1)!.post.toFixed(2)} s, ${o.at(-1)!.rssMb.toFixed(0)} MB` +
      (r === 0 ? `; bpftrace ${b.at(-1)!.post.toFixed(2)} s, ${b.at(-1)!.rssMb.toFixed(0)} MB` : ''));
  }
  const text = readFileSync(folded, 'utf8');
  const stacks = text.split('\n').filter(Boolean);
  const samples = stacks.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  report({
    name: 'profile',
    ours: Math.round(median(o.map((r) => r.post)) * 1000) / 1000,
    reference: Math.round(median(b.map((r) => r.post)) * 1000) / 1000,
    unit: 's of post-processing after sampling',
    better: 'lower',
    referenceName: "bpftrace 0.17 (profile:hz:99, @[kstack, ustack, comm] printed at exit)",
    target: undefined,
    roundRatios: o.map((r) => r.post / median(b.map((x) => x.post))),
    goals: { postSeconds: 1, rssMb: 150 },
    goalsMet: { postSeconds: median(o.map((r) => r.post)) <= 1, rssMb: median(o.map((r) => r.rssMb)) <= 150 },
    seconds: SECONDS,
    frequency: 99,
    runs: RUNS,
    loadAverageAtStart: load,
    postSeconds: { tsbpf: spread(o.map((r) => r.post)), bpftrace: spread(b.map((r) => r.post)) },
    rssMb: { tsbpf: spread(o.map((r) => r.rssMb)), bpftrace: spread(b.map((r) => r.rssMb)) },
    lastProfile: {
      stacks: stacks.length,
      samples,
      jitFrames: (text.match(/(JS|LazyCompile|Function):[^;]*fib/g) ?? []).length,
      demangledCxxFrames: (text.match(/bench::deep::Work<double>::churn\(int\)/g) ?? []).length,
      unresolvedFrames: (text.match(/;0x[0-9a-f]+/g) ?? []).length,
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
