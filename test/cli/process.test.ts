// What every command does as a process, whatever it runs: SIGUSR1 never opens Node's inspector (a
// root back door) — in `trace` it prints the maps, as bpftrace does; without root or the
// capabilities it needs, a command says so in one line, at once, before it loads anything; and
// `tsbpf help COMMAND` is that command's help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { repoPath } from '../helpers/objects.js';
import { CLI } from '../net-tools/topology.js';
import { sleep } from '../helpers/endings.js';

const EXAMPLE = repoPath('examples/tcpconnect/tcpconnect.bpf.o');

/** TCP sockets process `pid` listens on (its socket fds that /proc/net/tcp* shows in LISTEN). */
function listening(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) out.push(`${table} ${f[1]}`);
    }
  }
  return out;
}

test('SIGUSR1 opens no inspector in any command; in trace it prints the maps', async (t) => {
  if (!needsRoot(t)) return;
  const cases: { args: string[]; ready: RegExp }[] = [
    { args: ['trace', 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'], ready: /Attaching 1 probe/ },
    { args: ['syscount'], ready: /Ctrl\+C to quit/ },
    { args: ['trace-pipe'], ready: /^/ },
    { args: ['run', EXAMPLE], ready: /attached/ },
    { args: ['capture', '-i', 'lo', 'icmp'], ready: /listening on/ },
  ];
  // one after the other: trace-pipe and run both read the kernel's one trace pipe
  for (const { args, ready } of cases) {
    const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    for (const end = Date.now() + 30_000; !ready.test(out + err) && Date.now() < end; ) await sleep(25);
    await sleep(300);
    assert.equal(child.exitCode, null, `${args[0]} runs: ${err}`);
    assert.deepEqual(listening(child.pid!), [], `${args[0]}: listening once started`);
    const before = { out: out.length, err: err.length };
    for (let i = 0; i < 3; i++) {
      child.kill('SIGUSR1');
      await sleep(200);
    }
    assert.deepEqual(listening(child.pid!), [], `${args[0]}: listening after SIGUSR1`);
    assert.equal(child.exitCode, null, `${args[0]} still runs`);
    if (args[0] === 'trace') assert.match(out.slice(before.out), /^@\[[^\]\n]+\]: \d+$/m, 'SIGUSR1 printed the maps');
    child.kill('SIGINT');
    assert.equal(await closed, 0, err);
    assert.doesNotMatch(err.slice(before.err), /Debugger|inspector|9229/);
  }
});

/** Runs `tsbpf args` as nobody; the status, what it printed and how long it took. */
function asNobody(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...CLI, ...args], { encoding: 'utf8', timeout: 30_000, cwd: '/' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

test('without root: one line naming what is missing, within a second or so, for every command that needs it', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'setpriv')) return;
  const TRACING = 'root, or CAP_BPF and CAP_PERFMON: this process lacks CAP_BPF and CAP_PERFMON';
  const NET = 'root, or CAP_BPF and CAP_NET_ADMIN: this process lacks CAP_BPF and CAP_NET_ADMIN';
  const ADMIN = 'root, or CAP_SYS_ADMIN: this process lacks CAP_SYS_ADMIN';
  const cases: [string[], string][] = [
    ...['tcpconnect', 'execsnoop', 'opensnoop', 'tcplife', 'tcpstates', 'runqlat', 'biolatency', 'syscount', 'profile'].map((c): [string[], string] => [[c], `${c} needs ${TRACING}`]),
    [['trace', 'BEGIN { printf("hi\\n"); exit(); }'], `trace needs ${TRACING}`],
    [['trace', '-l', 'sched:*'], `trace -l (reading tracefs) needs ${ADMIN}`],
    [['run', EXAMPLE], `run needs ${TRACING}`],
    [['trace-pipe'], `trace-pipe (reading tracefs) needs ${ADMIN}`],
    [['capture', '-i', 'lo'], 'capture needs root, or CAP_BPF and CAP_NET_RAW: this process lacks CAP_BPF and CAP_NET_RAW'],
    [['xdp-shield', 'lo'], `xdp-shield needs ${NET}`],
    [['xdp-shield', 'lo', 'status'], `xdp-shield status needs ${NET}`],
    [['tc-limit', 'lo', '--egress', '--rate', '1mbit'], `tc-limit needs ${NET}`],
    [['test-run', EXAMPLE, '--prog', 'x', '--pcap', '/dev/null'], `test-run needs ${NET}`],
    [['prog', 'list'], `prog needs ${ADMIN}`],
    [['prog', 'show', '1'], `prog needs ${ADMIN}`],
    [['map', 'list'], `map needs ${ADMIN}`],
    [['map', 'dump', '1'], `map needs ${ADMIN}`],
  ];
  for (const [args, why] of cases) {
    const r = asNobody(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `tsbpf: ${why} (run it as root, e.g. with sudo)\n`, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    // the old way: seconds of retries (tcpconnect tried every hook) before a long line of EPERMs
    // ~0.3 s on a quiet machine; the bound is for the old behaviour (retries for 8 s), not for load
    assert.ok(r.ms < 5000, `${args.join(' ')} took ${r.ms} ms`);
  }
  // what needs no privilege works as anyone
  for (const args of [['syscount', '--list'], ['capture', '-d', 'icmp'], ['btf', 'dump', EXAMPLE], ['help', 'prog'], ['disasm', EXAMPLE]]) {
    const r = asNobody(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stdout.length > 0, args.join(' '));
  }
});

test('tsbpf help COMMAND is the command\'s help; tsbpf help the list', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  const help = run(['help', 'prog']);
  assert.equal(help.status, 0, help.stderr);
  assert.equal(help.stdout, run(['prog', '--help']).stdout);
  assert.match(help.stdout, /^Usage: prog \[options\] \[command\]/m);
  assert.match(help.stdout, /^ +list /m);
  const all = run(['help']);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /^ +tcpconnect /m);
  const bad = run(['help', 'nosuch']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown command 'nosuch'/);
});
