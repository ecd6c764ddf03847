// Scripts run against this kernel: real events from child processes with known pids, exact output,
// and bpftrace's own output for the same script where it is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { OURS, bpftrace, trace } from './helpers.js';
import { ScriptError } from '../../src/script/error.js';
import { SAME_AS_BPFTRACE } from './same-as-bpftrace.js';

const SEED = 'tracepoint:sock:inet_sock_set_state /args->newstate == 2/ { printf("PID %d -> %s:%d\\n", pid, ntop(args->daddr), args->dport) }';

test('BEGIN { printf; exit() } prints like bpftrace', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace('BEGIN { printf("hi\\n"); exit() }');
  assert.equal(out, 'Attaching 1 probe...\nhi\n\n\n');
});

test("the seed's one-liner prints one line per connect, with the child's pid", async (t) => {
  if (!needsRoot(t)) return;
  const { out, pids } = await trace(SEED, ['exec 3<>/dev/tcp/127.0.0.1/9', 'exec 3<>/dev/tcp/127.0.0.2/80']);
  // (the one-liner is system-wide: other processes' connects may show up too)
  const lines = out.split('\n');
  assert.deepEqual([lines[0], ...lines.slice(-3)], ['Attaching 1 probe...', '', '', '']);
  assert.deepEqual(lines.filter((l) => pids.some((p) => l.startsWith(`PID ${p} `))), [`PID ${pids[0]} -> 127.0.0.1:9`, `PID ${pids[1]} -> 127.0.0.2:80`]);
  assert.ok(lines.slice(1, -3).every((l) => /^PID \d+ -> \d+\.\d+\.\d+\.\d+:\d+$/.test(l)), out);
});

test('maps, aggregations, printf and print: output identical to bpftrace', async (t) => {
  if (!needsRoot(t)) return;
  for (const [script, want] of SAME_AS_BPFTRACE) {
    const { out } = await trace(script);
    assert.equal(out, want, script);
  }
});

test('differential: bpftrace itself prints the same for the same scripts', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'bpftrace')) return;
  for (const [script, want] of SAME_AS_BPFTRACE) {
    const ref = bpftrace(script);
    assert.equal(ref, want, `bpftrace: ${script}`);
  }
});

test('hist with every bucket kind and lhist edges, against bpftrace', async (t) => {
  if (!needsRoot(t)) return;
  const scripts = [
    'BEGIN { @x = hist(0); @x = hist(-1); @x=hist(1); @x=hist(1024); @x = hist(2000000); exit() }',
    'BEGIN { @l = lhist(-5, 0, 100, 10); @l = lhist(100, 0, 100, 10); @l = lhist(0, 0, 100, 10); exit() }',
  ];
  for (const s of scripts) {
    const { out } = await trace(s);
    assert.match(out, /^Attaching 1 probe\.\.\.\n\n\n@[xl]: \n/);
    const ref = bpftrace(s);
    if (ref !== undefined) assert.equal(out, ref, s);
    else if (s.includes('hist(0)')) assert.match(out, /\[1M, 2M\) {15}1 \|@{52}\|\n\n$/);
  }
});

test('predicate on comm, str() of a user pointer, from a child cat', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace(`tracepoint:syscalls:sys_enter_openat /comm == "cat" && ${OURS} && str(args->filename) == "/etc/hostname"/ { printf("%s %s\\n", comm, str(args->filename)); }`, ['exec cat /etc/hostname >/dev/null']);
  assert.equal(out, 'Attaching 1 probe...\ncat /etc/hostname\n\n\n');
});

test('__data_loc strings (sched_process_exec filename) and pid of the exec', async (t) => {
  if (!needsRoot(t)) return;
  const { out, pids } = await trace(`tracepoint:sched:sched_process_exec /${OURS} && str(args->filename) == "/bin/true"/ { printf("%d %s\\n", pid, str(args->filename)) }`, ['exec /bin/true']);
  assert.equal(out, `Attaching 1 probe...\n${pids[0]} /bin/true\n\n\n`);
});

test('join(args->argv) of an execve', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace(`tracepoint:syscalls:sys_enter_execve /${OURS} && str(args->filename) == "/bin/echo"/ { join(args->argv); }`, ['exec /bin/echo tsbpf  joins "its args" >/dev/null']);
  assert.equal(out, 'Attaching 1 probe...\n/bin/echo tsbpf joins its args\n\n\n');
});

test('maps keyed by comm and pid from real execs; count() and sum()', async (t) => {
  if (!needsRoot(t)) return;
  const { out, pids } = await trace(
    `tracepoint:sched:sched_process_exec /comm == "true" && ${OURS}/ { @n[comm, pid] = count(); @s = sum(3); }`,
    ['exec /bin/true', 'exec /bin/true'],
  );
  // equal counts print in hash order (as in bpftrace): compare the @n lines as a set
  const lines = out.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['Attaching 1 probe...', '', '']);
  assert.deepEqual(lines.slice(3, 5).sort(), [`@n[true, ${pids[0]}]: 1`, `@n[true, ${pids[1]}]: 1`].sort());
  assert.deepEqual(lines.slice(5), ['@s: 6', '']);
});

test('interval and profile probes fire; exit() from a probe stops the run', async (t) => {
  if (!needsRoot(t)) return;
  const a = await trace('interval:ms:50 { @n++; if (@n == 3) { printf("three\\n"); exit() } }', [], { settleMs: 5000 });
  assert.equal(a.out, 'Attaching 1 probe...\nthree\n\n\n@n: 3\n');
  const b = await trace('profile:hz:199 { @p = count(); } interval:ms:300 { exit() }', [], { settleMs: 5000 });
  const n = Number(/@p: (\d+)/.exec(b.out)?.[1]);
  assert.ok(n > 10, b.out);
});

test('control flow: while, continue, unroll, ternary, variables, tuples', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace('BEGIN { $i = 0; while ($i < 5) { $i++; if ($i == 2) { continue } @w[$i] = $i * 10; } unroll(3) { @u++ } $s = $i > 3 ? "big" : "small"; printf("%s %d\\n", $s, $i); @t = (pid > 0, "x"); exit() }');
  assert.equal(out, 'Attaching 1 probe...\nbig 5\n\n\n@t: (1, x)\n@u: 3\n@w[1]: 10\n@w[3]: 30\n@w[4]: 40\n@w[5]: 50\n');
});

test('BTF: curtask fields and casts to struct pointers', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace('BEGIN { printf("%d %d %s\\n", curtask->pid == pid, ((struct task_struct *)curtask)->tgid == pid, curtask->comm); exit() }');
  assert.match(out, /^Attaching 1 probe\.\.\.\n1 1 \S+\n\n\n$/);
});

test('kfunc: a function without BTF is a script error at its probe', async (t) => {
  if (!needsRoot(t)) return;
  await assert.rejects(trace('BEGIN { exit() }\nkfunc:no_such_function_here { @ = count() }'), (e: unknown) => e instanceof ScriptError && /No BTF found for no_such_function_here/.test(e.message) && e.line === 2);
});

test('-f json lines like bpftrace', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace('BEGIN { printf("x %d\\n", 5); @c[1,"a"] = count(); @m = 5; @x = hist(5); @x = hist(100); @st = stats(4); @t = (1, "a"); print(7); exit() }', [], { json: true });
  assert.equal(out, [
    '{"type": "attached_probes", "data": {"probes": 1}}',
    '{"type": "printf", "data": "x 5\\n"}',
    '{"type": "value", "data": 7}',
    '{"type": "map", "data": {"@c": {"1,a": 1}}}',
    '{"type": "map", "data": {"@m": 5}}',
    '{"type": "stats", "data": {"@st": {"count": 1, "average": 4, "total": 4}}}',
    '{"type": "map", "data": {"@t": [1,"a"]}}',
    '{"type": "hist", "data": {"@x": [{"min": 4, "max": 7, "count": 1}, {"min": 8, "max": 15, "count": 0}, {"min": 16, "max": 31, "count": 0}, {"min": 32, "max": 63, "count": 0}, {"min": 64, "max": 127, "count": 1}]}}',
    '',
  ].join('\n'));
});

test('a verifier rejection points at the script expression', async (t) => {
  if (!needsRoot(t)) return;
  // An unbounded loop: the verifier refuses it; the error names the loop's condition.
  await assert.rejects(trace('BEGIN { $i = 1; while ($i > 0) { $i = $i + 1 } exit() }'), (e: unknown) => {
    assert.ok(e instanceof ScriptError, String(e));
    assert.match(e.message, /^stdin:1:\d+-\d+: ERROR: the kernel verifier rejected this: /);
    assert.match(e.message, /\n {8}/);
    return true;
  });
});

test('rawtracepoint: arg-less count by comm from a real exec', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace(`rawtracepoint:sched_process_exec /comm == "true" && ${OURS}/ { @[comm] = count(); }`, ['exec /bin/true']);
  assert.equal(out, 'Attaching 1 probe...\n\n\n@[true]: 1\n');
});

test('uprobe and uretprobe on libc (bash calls getppid for $PPID): func, pid, retval', async (t) => {
  if (!needsRoot(t)) return;
  const { out, pids } = await trace(
    `uprobe:libc:getppid /comm == "bash" && ${OURS}/ { printf("enter %s %d\\n", func, pid); } uretprobe:libc:getppid /comm == "bash" && ${OURS}/ { printf("ret %d\\n", retval == $1); exit() }`,
    ['echo $PPID >/dev/null'], { params: [String(process.pid)], settleMs: 5000 },
  );
  assert.equal(out, `Attaching 2 probes...\nenter getppid ${pids[0]}\nret 1\n\n\n`);
});

test('kstack in printf (8 spaces) and as a map key (4 spaces), ksym, buf, strftime', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace(
    `tracepoint:syscalls:sys_enter_getppid /comm == "bash" && ${OURS}/ { printf("[%s]\\n", kstack(1)); @[kstack(1)] = count(); printf("%s|%s|%s\\n", ksym(0), strftime("%Y", nsecs), buf(comm, 4)); print(ksym(4660)); exit() }`,
    ['echo $PPID >/dev/null'],
  );
  const year = String(new Date().getFullYear());
  const m = /^Attaching 1 probe\.\.\.\n\[\n {8}(\S+)\n\]\n0\|(\d{4})\|bash\n0x1234\n\n\n@\[\n {4}(\S+)\n\]: \d+\n$/.exec(out);
  assert.ok(m, out);
  assert.equal(m[2], year);
  assert.equal(m[1], m[3]);
  assert.match(m[1]!, /^\w+\+\d+$/);
});

test('print(@map) and clear() while running', async (t) => {
  if (!needsRoot(t)) return;
  const { out } = await trace('BEGIN { @a[1] = 10; @a[2] = 5; print(@a); clear(@a); @b = 1; print(@b); exit() }');
  // events are handled after BEGIN has run: print shows the map as it is then (bpftrace does the same)
  assert.equal(out, 'Attaching 1 probe...\n@a[2]: 5\n@a[1]: 10\n@b: 1\n\n\n\n@b: 1\n');
});

test('builtins from a real exec: uid gid tid cpu cgroup nsecs elapsed probe func', async (t) => {
  if (!needsRoot(t)) return;
  const { statSync, readFileSync } = await import('node:fs');
  const { cpus } = await import('node:os');
  const before = process.hrtime.bigint();
  const { out, pids } = await trace(
    `tracepoint:sched:sched_process_exec /comm == "true" && ${OURS}/ { printf("%d %d %d %d %d %lu %lu %lu|%s|%s\\n", pid, uid, gid, tid == pid, cpu, cgroup, nsecs, elapsed, probe, func); exit() }`,
    ['exec /bin/true'],
  );
  const after = process.hrtime.bigint();
  const m = /^Attaching 1 probe\.\.\.\n(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)\|(.*)\|(.*)\n\n\n$/.exec(out);
  assert.ok(m, out);
  assert.equal(Number(m[1]), pids[0]);
  assert.equal(Number(m[2]), process.getuid!());
  assert.equal(Number(m[3]), process.getgid!());
  assert.equal(m[4], '1');
  assert.ok(Number(m[5]) < cpus().length);
  // cgroup v2 id = inode of the process's cgroup directory (the child's is this process's)
  const cg = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  if (cg !== undefined) assert.equal(BigInt(m[6]!), BigInt(statSync(`/sys/fs/cgroup${cg}`).ino));
  const ns = BigInt(m[7]!);
  assert.ok(ns > before && ns < after, `${before} < ${ns} < ${after}`);
  assert.ok(BigInt(m[8]!) > 0n && BigInt(m[8]!) < after - before);
  assert.equal(m[9], 'tracepoint:sched:sched_process_exec');
  assert.equal(m[10], 'sched_process_exec');
});

test('min, max, avg and stats from real events', async (t) => {
  if (!needsRoot(t)) return;
  // the byte counts of three writes of known sizes by a child
  const { out } = await trace(
    `tracepoint:syscalls:sys_enter_write /comm == "bash" && ${OURS} && args->fd == 1/ { @min = min(args->count); @max = max(args->count); @avg = avg(args->count); @st = stats(args->count); @h = hist(args->count); }`,
    ['printf "%s" abc; printf "%s" 0123456789; printf "%s" 0123456 > /dev/null'],
  );
  assert.equal(out, 'Attaching 1 probe...\n\n\n@avg: 6\n\n@h: \n[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n[8, 16)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@max: 10\n@min: 3\n@st: count 3, average 6, total 20\n\n');
});

test('system() only with --unsafe; it runs the formatted command', async (t) => {
  if (!needsRoot(t)) return;
  await assert.rejects(trace('BEGIN { system("echo sys %d", 5); exit() }'), /unsafe/);
  let out = '';
  await import('../../src/script/runtime.js').then(({ runScript }) => runScript('BEGIN { system("echo sys %d", 5); exit() }', { unsafe: true, write: (s) => { out += s; } }));
  assert.equal(out, 'Attaching 1 probe...\nsys 5\n\n\n');
});
