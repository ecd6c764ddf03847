// Running one corpus case as users run scripts: `tsbpf trace` (or `bpftrace`, the differential
// mode's reference) with the case's arguments, its workload started once the probes are attached,
// Ctrl+C after its timeout, then judged.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge, type CorpusCase } from './cases.js';

export interface CaseRun {
  pass: boolean;
  why: string[];
  out: string;
  err: string;
  code: number | null;
  ms: number;
}

/** `cmd` is the tracer's argv up to its options: [node, bin/tsbpf, 'trace'] or ['bpftrace']. */
export function runCase(cmd: string[], c: CorpusCase): Promise<CaseRun> {
  // each case has a directory of its own for the files it writes and reads ({dir})
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-corpus-'));
  const sub = (s: string): string => s.replaceAll('{dir}', dir);
  for (const f of c.files) writeFileSync(join(dir, f.name), f.text);
  if (c.script !== undefined) writeFileSync(join(dir, 'script.bt'), c.script);
  if (c.before !== undefined) {
    // the files the tracer reads (a program built from a WRITE'n source) exist before it starts
    const b = spawnSync('/bin/sh', ['-c', sub(c.before)], { cwd: dir, encoding: 'utf8' });
    if (b.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve({ pass: false, why: [`BEFORE failed (status ${b.status}): ${b.stderr.trim()}`], out: '', err: b.stderr, code: b.status, ms: 0 });
    }
  }
  const argv = [
    ...cmd.slice(1), ...c.args.map(sub), ...(c.script !== undefined ? [join(dir, 'script.bt')] : []),
    ...(c.prog !== undefined ? ['-e', sub(c.prog)] : []), ...c.positional.map(sub),
  ];
  const t0 = Date.now();
  const p = spawn(cmd[0]!, argv, { stdio: [c.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'], cwd: dir });
  if (c.stdin !== undefined) p.stdin!.end(c.stdin);
  let out = '';
  let err = '';
  let workload: Promise<void> | undefined;
  let ended = false;
  // In the matrix's guests (emulated; only kprobe/kfunc cases run there, each ending itself with
  // exit()) attaching takes seconds, longer than any fixed pause after "Attaching": the workload
  // repeats every second until the tracer has ended. Here it runs once, so cases may count events.
  const guest = !!process.env.TSBPF_GUEST_KERNEL;
  const runWorkload = (): Promise<void> => new Promise((res) => {
    spawn('/bin/sh', ['-c', sub(c.after!)], { stdio: 'ignore', cwd: dir }).on('close', () => res());
  });
  const startWorkload = (): void => {
    if (workload || !c.after || !/Attaching \d+ probes?|"attached_probes"/.test(out)) return;
    // both tools print "Attaching" just before they attach: give them a moment
    const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
    workload = (async () => {
      await sleep(guest ? 1000 : 400);
      await runWorkload();
      while (guest && !ended) {
        await sleep(1000);
        if (!ended) await runWorkload();
      }
    })();
  };
  p.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    startWorkload();
  });
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // Ctrl+C at the timeout, as a user stops a script that does not exit by itself; killed if it ignores it
  // (emulated guests run everything 8-25 times slower: their cases get 6 times the time)
  const timeout = c.timeout * (guest ? 6 : 1);
  const int = setTimeout(() => p.kill('SIGINT'), timeout * 1000);
  const kill = setTimeout(() => p.kill('SIGKILL'), timeout * 1000 + 15_000);
  return new Promise((resolve) => {
    p.on('close', async (code, signal) => {
      ended = true;
      clearTimeout(int);
      clearTimeout(kill);
      await workload;
      const status = code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGKILL' ? 137 : null);
      if (c.outputFile !== undefined) {
        try {
          out += readFileSync(join(dir, c.outputFile), 'utf8');
        } catch {
          /* no file: the expectations say what is missing */
        }
      }
      rmSync(dir, { recursive: true, force: true });
      const why = judge(c, out, err, status);
      resolve({ pass: why.length === 0, why, out, err, code: status, ms: Date.now() - t0 });
    });
  });
}
