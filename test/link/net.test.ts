import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, rmdirSync, existsSync, readFileSync } from 'node:fs';
import { Program } from '../../src/kernel/program.js';
import { BpfMap } from '../../src/maps/map.js';
import { u32, u64 } from '../../src/maps/codec.js';
import { attachCgroup, attachSocketFilter, attachTcx, attachXdp, ifindex } from '../../src/link/net.js';
import { attachTcNetlink } from '../../src/link/netlink.js';
import { tcx } from '../../src/kernel/features.js';
import { pendingCleanups } from '../../src/sys/cleanup.js';
import { progQuery } from '../../src/sys/bpf.js';
import { native } from '../../src/sys/native.js';
import { AttachType, LinkType, MapType, ProgramType } from '../../src/uapi/bpf.js';
import { inCI, needsCommand, needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { countInArray } from '../kernel/asm.js';
import { moduleUrl, runChild } from '../sys/child.js';

const counter = (): BpfMap<number, bigint> => BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, key: u32, value: u64 });

async function sendUdp(host: string, n: number, port = 9): Promise<void> {
  const s = createSocket('udp4');
  for (let i = 0; i < n; i++) await new Promise<void>((r) => s.send('x', port, host, () => r()));
  await new Promise<void>((r) => s.close(() => r()));
}

test('XDP and tcx (or clsact where the kernel has no tcx) on a veth pair see the packets sent through it', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'ip')) return;
  const a = `tsb${process.pid % 100000}a`, b = `tsb${process.pid % 100000}b`;
  const net = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  const maps: number[] = [], progs: number[] = [], links: number[] = [];
  try {
    execFileSync('ip', ['addr', 'add', `${net}.1/24`, 'dev', a]);
    execFileSync('ip', ['link', 'set', a, 'up']);
    execFileSync('ip', ['link', 'set', b, 'up']);
    {
      using xdpCount = counter();
      using tcCount = counter();
      maps.push(xdpCount.id, tcCount.id);
      using xdp = Program.load({ type: ProgramType.XDP, license: 'GPL', instructions: countInArray(xdpCount.fd, 2 /* XDP_PASS */) });
      using tc = Program.load({ type: ProgramType.SCHED_CLS, license: 'GPL', instructions: countInArray(tcCount.fd, 0 /* TC_ACT_OK */) });
      progs.push(xdp.id, tc.id);
      using lx = attachXdp(xdp, b);
      const ix = lx.info();
      assert.equal(ix.type, LinkType.XDP);
      assert.equal(ix.ifindex, ifindex(b));
      links.push(ix.id);
      // tcx links where the kernel has them (6.6+), else the clsact qdisc and a bpf filter by netlink
      const withTcx = tcx().ok;
      if (!withTcx) assert.throws(() => attachTcx(tc, a, 'egress'), /tcx needs Linux 6\.6.*clsact/);
      using lt = withTcx ? attachTcx(tc, a, 'egress') : attachTcNetlink(tc, a, 'egress');
      if (withTcx) {
        const it = lt.info();
        assert.equal(it.type, LinkType.TCX);
        assert.equal(it.ifindex, ifindex(a));
        assert.equal(it.attachType, AttachType.TCX_EGRESS);
        links.push(it.id);
        const q = progQuery(ifindex(a), AttachType.TCX_EGRESS);
        assert.deepEqual(q.progIds, [tc.id]);
        assert.deepEqual(q.linkIds, [it.id]);
        assert.ok(q.revision > 0n);
      }
      // Sending to the peer's (unanswered) address makes ARP requests leave a and arrive at b.
      await sendUdp(`${net}.2`, 3);
      const deadline = Date.now() + 5000;
      while ((xdpCount.get(0)! === 0n || tcCount.get(0)! === 0n) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(xdpCount.get(0)! > 0n, 'XDP saw packets');
      assert.ok(tcCount.get(0)! > 0n, 'tc egress saw packets');
      // BPF_LINK_UPDATE: swap the XDP program in place.
      using xdp2 = Program.load({ type: ProgramType.XDP, license: 'GPL', instructions: countInArray(tcCount.fd, 2) });
      progs.push(xdp2.id);
      lx.update(xdp2, xdp);
      assert.equal(lx.info().progId, xdp2.id);
      if (withTcx) {
        // BPF_LINK_DETACH: the program leaves the interface while the link fd stays open.
        lt.detach();
        assert.deepEqual(progQuery(ifindex(a), AttachType.TCX_EGRESS).progIds, []);
        assert.equal(lt.isBpfLink, true);
      }
    }
    assert.throws(() => ifindex('no-such-if0'), /ENODEV/);
  } finally {
    execFileSync('ip', ['link', 'del', a]);
  }
  await assertGone('link', links);
  await assertGone('prog', progs);
  await assertGone('map', maps);
});

function cgroupProgs(dir: string): number[] {
  const cg = native().open(dir, 0o200000);
  try {
    return progQuery(cg, AttachType.CGROUP_INET_EGRESS).progIds;
  } finally {
    native().close(cg);
  }
}

const CGROUP2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((p) => existsSync(`${p}/cgroup.procs`) && readFileSync('/proc/mounts', 'utf8').includes(` ${p} cgroup2 `));

for (const legacy of [false, true]) {
  test(`cgroup skb egress (${legacy ? 'PROG_ATTACH, detached at close' : 'bpf_link'}) counts a child's packets`, async (t) => {
    if (!needsRoot(t)) return;
    if (!CGROUP2) {
      if (inCI) throw new Error('no cgroup v2 mount, and CI=true forbids skipping');
      t.skip('no cgroup v2 mount');
      return;
    }
    const dir = `${CGROUP2}/tsbpf-test-${process.pid}-${legacy ? 'l' : 'k'}`;
    mkdirSync(dir);
    const maps: number[] = [], progs: number[] = [];
    try {
      {
        using count = counter();
        maps.push(count.id);
        using prog = Program.load({ type: ProgramType.CGROUP_SKB, expectedAttachType: AttachType.CGROUP_INET_EGRESS, license: 'GPL', instructions: countInArray(count.fd, 1) });
        progs.push(prog.id);
        {
          using link = attachCgroup(prog, dir, AttachType.CGROUP_INET_EGRESS, { legacy });
          assert.equal(link.isBpfLink, !legacy);
          if (legacy) assert.ok(pendingCleanups().some((c) => c.includes(dir)));
          const cg = native().open(dir, 0o200000);
          try {
            assert.deepEqual(progQuery(cg, AttachType.CGROUP_INET_EGRESS).progIds, [prog.id]);
          } finally {
            native().close(cg);
          }
          const code = `
            import { writeFileSync } from 'node:fs';
            import { createSocket } from 'node:dgram';
            writeFileSync(${JSON.stringify(`${dir}/cgroup.procs`)}, String(process.pid));
            const s = createSocket('udp4');
            let n = 0;
            const send = () => s.send('x', 9, '127.0.0.1', () => (++n < 4 ? send() : s.close()));
            send();
          `;
          const r = await runChild(code, false);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(count.get(0), 4n);
        }
        assert.ok(!pendingCleanups().some((c) => c.includes(dir)), 'legacy attachment detached at close');
        const r = await runChild(`import { writeFileSync } from 'node:fs'; import { createSocket } from 'node:dgram';
          writeFileSync(${JSON.stringify(`${dir}/cgroup.procs`)}, String(process.pid));
          const s = createSocket('udp4'); s.send('x', 9, '127.0.0.1', () => s.close());`, false);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(count.get(0), 4n, 'nothing counted after detach');
      }
    } finally {
      rmdirSync(dir);
    }
    await assertGone('prog', progs);
    await assertGone('map', maps);
  });
}

test('a legacy cgroup attachment is detached when the process is killed', async (t) => {
  if (!needsRoot(t)) return;
  if (!CGROUP2) {
    if (inCI) throw new Error('no cgroup v2 mount, and CI=true forbids skipping');
    t.skip('no cgroup v2 mount');
    return;
  }
  const dir = `${CGROUP2}/tsbpf-test-${process.pid}-kill`;
  mkdirSync(dir);
  try {
    const mods = ['src/kernel/program.js', 'src/link/net.js', 'src/uapi/bpf.js'].map(moduleUrl);
    const code = `
      const { Program } = await import(${JSON.stringify(mods[0]!.url)});
      const { attachCgroup } = await import(${JSON.stringify(mods[1]!.url)});
      const { AttachType, ProgramType } = await import(${JSON.stringify(mods[2]!.url)});
      const p = Program.load({ type: ProgramType.CGROUP_SKB, expectedAttachType: AttachType.CGROUP_INET_EGRESS, license: 'GPL',
        instructions: [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }] });
      attachCgroup(p, ${JSON.stringify(dir)}, AttachType.CGROUP_INET_EGRESS, { legacy: true });
      console.log('attached ' + p.id);
      setInterval(() => {}, 1000);
    `;
    let id = 0;
    let attachedWhileRunning: number[] | undefined;
    const r = await runChild(code, mods[0]!.needsTsx, (line, kill) => {
      if (line.startsWith('attached ')) {
        id = Number(line.slice(9));
        attachedWhileRunning = cgroupProgs(dir);
        kill('SIGTERM');
      }
    });
    assert.equal(r.code, 143, r.stderr);
    assert.ok(attachedWhileRunning?.includes(id), `attached while running: ${attachedWhileRunning}`);
    assert.ok(!cgroupProgs(dir).includes(id), 'detached after SIGTERM');
  } finally {
    rmdirSync(dir);
  }
});

test('a socket filter attached with SO_ATTACH_BPF sees the datagrams of its socket, until detached', async (t) => {
  if (!needsRoot(t)) return;
  const n = native();
  const sock = n.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
  assert.ok(sock >= 0);
  const maps: number[] = [], progs: number[] = [];
  try {
    const port = 40000 + (process.pid % 20000);
    const addr = new Uint8Array(16);
    const v = new DataView(addr.buffer);
    v.setUint16(0, 2, true);
    v.setUint16(2, port, false);
    addr.set([127, 0, 0, 1], 4);
    assert.equal(n.bind(sock, addr), 0);
    {
      using count = counter();
      maps.push(count.id);
      using prog = Program.load({ type: ProgramType.SOCKET_FILTER, license: 'GPL', instructions: countInArray(count.fd, -1 /* keep the whole packet */) });
      progs.push(prog.id);
      const link = attachSocketFilter(prog, sock);
      await sendUdp('127.0.0.1', 3, port);
      assert.equal(count.get(0), 3n);
      link.close();
      await sendUdp('127.0.0.1', 2, port);
      assert.equal(count.get(0), 3n, 'detached');
    }
  } finally {
    n.close(sock);
  }
  await assertGone('prog', progs);
  await assertGone('map', maps);
});
