// The compatibility table (docs/bpftrace-compat.md): bpftrace's tools (/usr/sbin/*.bt of Debian's
// bpftrace) and classic one-liners, each run unmodified by tsbpf and by bpftrace side by side over
// the same window and the same workload, then their outputs compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { packageRoot } from '../../src/sys/native.js';
import { CLI } from '../net-tools/topology.js';
import { fentry, hasKprobes } from '../../src/kernel/features.js';
import { updateCompat, type CompatRow, type KernelResults } from './compat-doc.js';

const ROOT = packageRoot(fileURLToPath(import.meta.url));
// the command as users run it (bin/tsbpf and the trace bundle, or the sources through tsx)
const TRACE = [...CLI, 'trace'];
const TOOLS_DIR = '/usr/sbin';
const MARK = 'tsbpfwl';

/** Classic one-liners (bpftrace's tutorial set, on probes this kernel has). */
const ONE_LINERS = [
  'BEGIN { printf("Hello, World!\\n"); exit(); }',
  'tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args->filename)); }',
  'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }',
  'tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }',
  'tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }',
  'tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = lhist(args->ret, 0, 10000, 1000); }',
  'tracepoint:syscalls:sys_enter_open* { @[probe] = count(); }',
  'tracepoint:syscalls:sys_enter_execve { join(args->argv); }',
  'tracepoint:sched:sched_process_exec { printf("%d %s\\n", pid, str(args->filename)); }',
  'tracepoint:sched:sched_process_fork { @ = count(); }',
  'tracepoint:sched:sched_switch { @[kstack] = count(); }',
  'profile:hz:99 { @[cpu] = count(); }',
  'tracepoint:syscalls:sys_enter_kill { printf("%d -> %d sig %d\\n", pid, args->pid, args->sig); }',
  'tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf("PID %d -> %s:%d\\n", pid, ntop(args->daddr), args->dport) }',
  'uretprobe:/bin/bash:readline { printf("%s\\n", str(retval)); }',
  'tracepoint:syscalls:sys_enter_nanosleep /comm == "' + MARK + '"/ { @[comm, args->rqtp->tv_nsec] = count(); }',
  'interval:ms:500 { printf("%s\\n", "tick"); }',
  'kprobe:do_nanosleep { printf("PID %d sleeping...\\n", pid); }',
  'kretprobe:vfs_read { @bytes = hist(retval); }',
  'kfunc:vfs_read { @[comm] = count(); }',
];

/** A workload that touches what the scripts trace: execs, opens, reads, connects, sleeps, kills. */
const WORKLOAD = `cp /bin/sleep /tmp/${MARK}; for i in 1 2 3; do /tmp/${MARK} 0.05; cat /etc/hostname >/dev/null; (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; kill -0 $$; done; sync; rm -f /tmp/${MARK}`;

interface Outcome {
  ok: boolean;
  out: string;
  err: string;
}

function startRun(cmd: string[], script: string, file: boolean): { done: Promise<Outcome>; ready: Promise<void>; stop: () => void } {
  const args = file ? [script] : ['-e', script];
  const p = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  p.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (/Attaching \d+ probes?\.\.\./.test(out)) readyResolve();
  });
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let killed = false;
  const done = new Promise<Outcome>((resolve) => {
    p.on('exit', (code, sig) => {
      readyResolve();
      // ran: stopped by our SIGINT (or exited by itself) cleanly, and said no ERROR on the way
      const errors = err.split('\n').filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l));
      resolve({ ok: !killed && (code === 0 || sig === 'SIGINT' || code === 130) && errors.length === 0, out, err: killed ? `${err}\nERROR: did not stop within 20 s of SIGINT` : err });
    });
  });
  // neither tool may hang the table: attach within 60 s (180 s in an emulated guest), stop within 20 s of SIGINT
  const guard = setTimeout(() => {
    killed = true;
    p.kill('SIGKILL');
  }, process.env.TSBPF_GUEST_KERNEL ? 180_000 : 60_000);
  done.then(() => clearTimeout(guard));
  return {
    done, ready,
    stop: () => {
      p.kill('SIGINT');
      clearTimeout(guard);
      setTimeout(() => {
        if (p.exitCode === null && p.signalCode === null) {
          killed = true;
          p.kill('SIGKILL');
        }
      }, 20_000).unref();
    },
  };
}

const sh = (cmd: string): Promise<void> => new Promise((r) => spawn('/bin/bash', ['-c', cmd], { stdio: 'ignore' }).on('exit', () => r()));

/** Lines with numbers, times and addresses masked, for comparing shapes. */
const template = (l: string): string => l.replace(/0x[0-9a-f]+/g, 'X').replace(/\d+/g, '#').replace(/ +/g, ' ').trim();

/** Coarser still: every word masked, so only the layout of a line remains (columns, brackets, bars). */
const layout = (l: string): string => template(l).replace(/\|@*\s*\|/g, '|bar|').replace(/\[[^\]]*\]/g, '[]').replace(/[^\s\[\]@:|#()]+/g, 'w');

function compare(a: string, b: string): { verdict: string; detail: string } {
  // the two tracers see each other start (execs, opens of bpftrace, node): not part of the comparison
  const strip = (s: string): string[] => s.split('\n').filter((l) => !/^ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK/.test(l) && !/\b(bpftrace|node|clang[-\d]*|tsx|npm)\b/.test(l));
  const la = strip(a);
  const lb = strip(b);
  if (la.join('\n') === lb.join('\n')) return { verdict: 'identical', detail: '' };
  // lines about the workload (its marker) must be the same up to numbers
  const ma = la.filter((l) => l.includes(MARK)).map(template).sort();
  const mb = lb.filter((l) => l.includes(MARK)).map(template).sort();
  // the header: what BEGIN prints, before any event
  const head = (ls: string[]): string => ls.slice(0, 3).map(template).join('\n');
  const sa = new Set(la.map(layout));
  const sb = new Set(lb.map(layout));
  const onlyA = la.filter((l) => !sb.has(layout(l)));
  const onlyB = lb.filter((l) => !sa.has(layout(l)));
  if (ma.join('\n') === mb.join('\n') && head(la) === head(lb) && onlyA.length === 0 && onlyB.length === 0) {
    return { verdict: 'same format', detail: `same workload lines${ma.length ? ` (${ma.length})` : ''}; other lines differ only in values (system-wide events, counts, times)` };
  }
  const sample = (xs: string[]): string => xs.slice(0, 2).map((x) => `\`${x.slice(0, 60).replace(/\|/g, '\\|')}\``).join(', ');
  const wl = ma.join('\n') !== mb.join('\n') ? `workload lines differ (tsbpf ${ma.length}, bpftrace ${mb.length}); ` : '';
  return { verdict: 'differs', detail: `${wl}tsbpf only: ${sample(onlyA) || '-'}; bpftrace only: ${sample(onlyB) || '-'}` };
}

const firstLine = (s: string): string => (s.split('\n').find((l) => /ERROR|rror/.test(l) && !/RLIMIT_MEMLOCK/.test(l)) ?? s.split('\n')[0] ?? '').replace(/\|/g, '\\|').slice(0, 110);

test('compatibility table: bpftrace tools and one-liners run unmodified, outputs compared', { timeout: 4 * 3600_000 }, async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'bpftrace')) return;
  // The whole table (every tool of bpftrace, ~8 minutes) is made when docs/bpftrace-compat.md is to be
  // regenerated (TSBPF_UPDATE_DOCS=1); the usual run checks the one-liners and the tools asserted below.
  const full = process.env.TSBPF_UPDATE_DOCS === '1';
  const tools = (existsSync(TOOLS_DIR) ? readdirSync(TOOLS_DIR).filter((f) => f.endsWith('.bt')).sort() : [])
    .filter((f) => full || ['execsnoop.bt', 'opensnoop.bt', 'syscount.bt'].includes(f));
  const cases: { name: string; script: string; file: boolean }[] = [
    ...ONE_LINERS.map((s) => ({ name: `\`${s.replace(/\|/g, '\\|')}\``, script: s, file: false })),
    ...tools.map((f) => ({ name: f, script: join(TOOLS_DIR, f), file: true })),
  ];
  const rows: CompatRow[] = [];
  for (const c of cases) {
    const ts = startRun([process.execPath, ...TRACE], c.script, c.file);
    const bt = startRun(['bpftrace'], c.script, c.file);
    await Promise.all([ts.ready, bt.ready]);
    // both attach after printing "Attaching" (many kprobes take seconds in an emulated guest)
    await new Promise((r) => setTimeout(r, process.env.TSBPF_GUEST_KERNEL ? 5000 : 1000));
    await sh(WORKLOAD);
    await new Promise((r) => setTimeout(r, 300));
    ts.stop();
    bt.stop();
    const [a, b] = await Promise.all([ts.done, bt.done]);
    if (process.env.COMPAT_LOG) process.stderr.write(`${c.name}: tsbpf ${a.ok} bpftrace ${b.ok}\n`);
    const cmp = a.ok && b.ok ? compare(a.out, b.out) : { verdict: '—', detail: '' };
    const note = !a.ok ? `tsbpf: ${firstLine(a.err)}` : !b.ok ? `bpftrace: ${firstLine(b.err)}` : cmp.detail;
    rows.push({ name: c.name, tsbpf: a.ok, bpftrace: b.ok, verdict: cmp.verdict, note });
  }
  if (full) {
    const kernel = process.env.TSBPF_GUEST_KERNEL ?? 'host';
    const results: KernelResults = {
      release: release(),
      features: `${hasKprobes() ? 'kprobes' : 'no kprobes'}, ${fentry().ok ? 'fentry' : 'no fentry'}`,
      date: new Date().toISOString().slice(0, 10),
      rows,
    };
    // a guest's checkout is a copy: its results go back through the matrix's output folder
    if (process.env.MATRIX_OUT) writeFileSync(join(process.env.MATRIX_OUT, `bpftrace-compat-${kernel}.json`), JSON.stringify(results));
    else updateCompat(join(ROOT, 'docs'), kernel, results);
  }
  // what must hold whatever the machine: the seed's one-liner and the tracepoint tools run
  const row = (name: string): CompatRow | undefined => rows.find((r) => r.name.includes(name));
  const seed = row('inet_sock_set_state');
  assert.ok(seed?.tsbpf && seed.bpftrace && /identical|same format/.test(seed.verdict), JSON.stringify(seed));
  for (const tool of ['execsnoop.bt', 'opensnoop.bt', 'syscount.bt']) if (tools.includes(tool)) assert.ok(row(tool)?.tsbpf, tool);
});
