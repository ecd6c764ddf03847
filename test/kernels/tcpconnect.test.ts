// tcpconnect on this kernel, hook by hook: with no flags it picks the best hook the kernel has and
// says which with -v; every hook the kernel has reports exactly the same connects (pid, comm,
// addresses, ports; IPv4 and IPv6, accepted and refused; counted too); the return probes also see
// connects that fail before a packet is sent (no route); hooks the kernel lacks fail with the reason;
// and Debian's libbpf-tools tcpconnect, run at the same time, sees the same connects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { TcpConnectTracer, type TcpConnect, type TcpConnectHook } from '../../src/tools/tcpconnect/index.js';
import { fentry, hasKprobes } from '../../src/kernel/features.js';
import { needsRoot } from '../helpers/kernel.js';
import { startChild, CONNECT_BODY, listen, closedPort, collectUntil, assertReleased, sleep } from '../tools/workload.js';
import { start, tsbpf } from './cli.js';

const HOOKS: TcpConnectHook[] = ['kprobe', 'fexit', 'tp_btf', 'tracepoint'];

/** What this kernel should allow, from the feature probes (never from its version). */
function hookWorks(h: TcpConnectHook): boolean {
  switch (h) {
    case 'kprobe': return hasKprobes();
    case 'fexit': return fentry().ok;
    case 'tp_btf': return existsSync('/sys/kernel/btf/vmlinux');
    case 'tracepoint': return true;
  }
}

const best = (): TcpConnectHook => HOOKS.find(hookWorks)!;

test('with no flags tcpconnect picks the best hook this kernel has, and -v says which', async (t) => {
  if (!needsRoot(t)) return;
  const r = tsbpf(['tcpconnect', '-v']);
  try {
    const m = await r.waitFor(/tcpconnect: hook (.*)\n/);
    const names: Record<TcpConnectHook, RegExp> = { kprobe: /^kprobe\/kretprobe/, fexit: /^fexit/, tp_btf: /^tp_btf/, tracepoint: /^tracepoint/ };
    assert.match(m[1]!, names[best()], `expected the ${best()} hook`);
    await r.waitFor(/PID\s+COMM/);
    assert.equal(await r.stop(), 0, r.err);
  } finally {
    await r.stop();
  }
});

/**
 * A connect from a fresh network namespace with no routes: connect() fails with ENETUNREACH at once.
 * `onPid` learns the process before it connects; resolves with connect()'s error code.
 */
async function unreachableConnect(onPid: (pid: number) => void): Promise<string> {
  const ns = `tsbpf-unreach-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const script = `const s=require('net').connect(80,'198.51.100.7');s.on('error',e=>{process.stdout.write(e.code);process.exit(0)});s.on('connect',()=>process.exit(1));`;
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    onPid(p.pid!);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((res) => p.on('close', res));
    assert.equal(code, 0, 'the unreachable connect failed as expected');
    return out;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

/** What must be the same under every hook: each hook's run has its own ports and child, so the port is its role. */
const fields = (e: TcpConnect, ports: number[]) => ({ comm: e.comm, af: e.af, saddr: e.saddr, daddr: e.daddr, target: ports.indexOf(e.dport), mainThread: e.tid === e.pid, sport: e.sport > 0 });

let reference: ReturnType<typeof fields>[] | undefined;

for (const hook of HOOKS) {
  test(`${hook}: IPv4 and IPv6, accepted and refused, exactly as every other hook reports them; count mode agrees`, async (t) => {
    if (!needsRoot(t)) return;
    if (!hookWorks(hook)) {
      const reasons: Record<TcpConnectHook, RegExp> = { kprobe: /kprobe: .*CONFIG_KPROBES/, fexit: /fexit: .*(EPERM|not permitted)/, tp_btf: /tp_btf: /, tracepoint: /tracepoint: / };
      await assert.rejects(TcpConnectTracer.open({ hooks: [hook] }), reasons[hook]);
      // the command says so at once, whatever --duration asked for
      const t0 = Date.now();
      const r = tsbpf(['tcpconnect', '--hook', hook, '--duration', '120']);
      assert.equal(await r.exited, 1);
      assert.match(r.err, /no hook works/);
      assert.ok(Date.now() - t0 < 60_000, `exited after ${Date.now() - t0} ms`);
      return;
    }
    const v4 = await listen('127.0.0.1');
    const v6 = await listen('::1');
    const refused4 = await closedPort('127.0.0.1');
    const refused6 = await closedPort('::1');
    const ports = [v4.port, v6.port, refused4, refused6, 80];
    const returnProbe = hook === 'kprobe' || hook === 'fexit';
    const tracer = await TcpConnectTracer.open({ ports, hooks: [hook] });
    const ids = tracer.kernelIds();
    let mine: TcpConnect[];
    try {
      assert.equal(tracer.hook, hook);
      const targets = [
        { host: '127.0.0.1', port: v4.port },
        { host: '::1', port: v6.port },
        { host: '127.0.0.1', port: refused4 },
        { host: '::1', port: refused6 },
      ];
      const child = await startChild('tc-hooks', CONNECT_BODY, { targets, rounds: 2 });
      let unreachable: number | undefined;
      const ac = new AbortController();
      const events = collectUntil(tracer.events(ac.signal), (l) => l.filter((e) => e.pid === child.pid).length >= 8 && (!returnProbe || l.some((e) => e.pid === unreachable)), 60_000, ac);
      await sleep(50);
      child.go();
      const results: { ok: boolean; host: string; port: number; lport?: number; err?: string }[] = await child.result;
      // a connect that fails before any packet or state change: the return probes see it fail
      if (returnProbe) assert.equal(await unreachableConnect((pid) => (unreachable = pid)), 'ENETUNREACH');
      const all = await events;
      mine = all.filter((e) => e.pid === child.pid);
      if (returnProbe) {
        const failed = all.filter((e) => e.pid === unreachable);
        assert.equal(failed.length, 1);
        assert.equal(failed[0]!.daddr, '198.51.100.7');
        assert.equal(failed[0]!.ret, -101, 'connect() failed with -ENETUNREACH');
      }
      assert.equal(mine.length, 8, 'every connect reported once');
      results.forEach((r, i) => {
        const e = mine[i]!;
        assert.equal(e.comm, 'tc-hooks');
        assert.equal(e.af, r.host === '::1' ? 6 : 4);
        assert.equal(e.daddr, r.host, 'destination address');
        assert.equal(e.saddr, r.host, 'source address');
        assert.equal(e.dport, r.port);
        if (r.ok) assert.equal(e.sport, r.lport, 'source port');
        else assert.equal(r.err, 'ECONNREFUSED');
        // the return probes see connect()'s start succeed for refused connects too (the refusal comes later)
        if (returnProbe) assert.equal(e.ret, 0);
        else assert.equal(e.state, r.ok ? 'established' : 'closed');
      });
      assert.equal(tracer.lost, 0);
      // the same connects, field for field, whatever the hook
      reference ??= mine.map((e) => fields(e, ports));
      assert.deepEqual(mine.map((e) => fields(e, ports)), reference);
    } finally {
      tracer.close();
    }
    await assertReleased(ids);

    const counting = await TcpConnectTracer.open({ count: true, ports, hooks: [hook] });
    try {
      const child = await startChild('tc-count', CONNECT_BODY, { targets: [{ host: '127.0.0.1', port: v4.port }, { host: '::1', port: v6.port }], rounds: 3 });
      child.go();
      await child.result;
      assert.deepEqual(counting.counts(), [
        { af: 4, saddr: '127.0.0.1', daddr: '127.0.0.1', dport: v4.port, count: 3 },
        { af: 6, saddr: '::1', daddr: '::1', dport: v6.port, count: 3 },
      ]);
    } finally {
      counting.close();
      v4.server.close();
      v6.server.close();
    }
  });
}

test("libbpf-tools' tcpconnect sees the same connects as tsbpf tcpconnect, line for line", async (t) => {
  if (!needsRoot(t)) return;
  const bin = '/usr/sbin/tcpconnect';
  if (!existsSync(bin)) throw new Error(`${bin} missing (apt-get install libbpf-tools)`);
  const v4 = await listen('127.0.0.1');
  const v6 = await listen('::1');
  const refused = await closedPort('127.0.0.1');
  const ours = tsbpf(['tcpconnect']);
  // its stdout is a pipe here: line-buffered, as on a terminal, so its rows come as they are printed
  const theirs = start('stdbuf', ['-oL', bin]);
  try {
    await ours.waitFor(/PID\s+COMM/);
    // libbpf-tools' tcpconnect needs kprobes or fentry; without them it cannot attach at all
    const ready = await Promise.race([theirs.waitFor(/PID\s+COMM/).then(() => true), theirs.exited.then(() => false)]);
    if (!ready) {
      assert.ok(!hasKprobes() && !fentry().ok, `libbpf-tools tcpconnect failed although the kernel has kprobes or fentry:\n${theirs.err}`);
      return;
    }
    const child = await startChild('tc-side', CONNECT_BODY, { targets: [{ host: '127.0.0.1', port: v4.port }, { host: '::1', port: v6.port }, { host: '127.0.0.1', port: refused }], rounds: 2 });
    child.go();
    await child.result;
    const rows = (text: string): string[] => text.split('\n').filter((l) => new RegExp(`^${child.pid}\\s`).test(l)).map((l) => l.trimEnd());
    await ours.waitUntil((o) => rows(o).length >= 6, 'six rows');
    await theirs.waitUntil((o) => rows(o).length >= 6, 'six rows');
    assert.equal(ours.out.split('\n')[0], theirs.out.split('\n')[0], 'the same header');
    assert.deepEqual(rows(ours.out), rows(theirs.out));
    assert.equal(rows(ours.out).length, 6);
  } finally {
    await ours.stop();
    await theirs.stop();
    v4.server.close();
    v6.server.close();
  }
});
