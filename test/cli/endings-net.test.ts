// The network commands — capture, xdp-shield (bpf_link and --netlink), tc-limit (tcx with fq, and
// clsact by netlink) — ended as users end them (test/helpers/ending-checks.ts), each on a veth of
// its own (test/net-tools/topology.ts) with a ping flowing through it. After every ending the
// interface is as it was: no XDP program, the same qdiscs, no filter, no pins, no owner record.
// After a SIGKILL the kernel keeps what was attached by netlink or pinned: `status` and `block`
// refuse a shield that is no longer attached, and the next run says what it found and removes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { CLI, topology, type Topology } from '../net-tools/topology.js';
import { ENDINGS, type Row } from '../helpers/ending-checks.js';
import { sleep } from '../helpers/endings.js';

const PIN_ROOT = '/sys/fs/bpf/tsbpf/xdp-shield';

/** What the interface has that a network command may change. */
function ifaceState(dev: string): string {
  const link = execFileSync('ip', ['link', 'show', 'dev', dev], { encoding: 'utf8' });
  const xdp = /\bprog\/xdp|\bxdp(generic|drv)?\b/.test(link) ? 'XDP attached' : 'no XDP';
  const qdiscs = execFileSync('tc', ['qdisc', 'show', 'dev', dev], { encoding: 'utf8' }).trim();
  const filters = ['ingress', 'egress'].map((d) => spawnSync('tc', ['filter', 'show', 'dev', dev, d], { encoding: 'utf8' }).stdout.trim()).join(' ');
  return `${xdp}; qdiscs: ${qdiscs}; filters: ${filters || 'none'}`;
}

const records = (dev: string): string[] =>
  [`/run/tsbpf/xdp-shield/${dev}.json`, `/run/tsbpf/tc-limit/${dev}.ingress.json`, `/run/tsbpf/tc-limit/${dev}.egress.json`].filter((p) => existsSync(p));

const tsbpf = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

/** Polls until `check` holds (the kernel releases a dead process's links a moment later). */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await sleep(50);
  return check();
}

/** A network row on topology `t`: the interface must look as it did before (`baseline`) after each ending. */
function netRow(t: Topology, baseline: string, row: Omit<Row, 'clean'>): Row {
  const dev = t.host;
  return {
    readyOnStderr: true,
    ...row,
    clean: async (how) => {
      await eventually(() => ifaceState(dev) === baseline);
      assert.equal(ifaceState(dev), baseline, `${row.name} ${how}: the interface changed`);
      assert.equal(existsSync(`${PIN_ROOT}/${dev}`), false, `${row.name} ${how}: pins left`);
      assert.deepEqual(records(dev), [], `${row.name} ${how}: owner record left`);
    },
  };
}

const ROWS: { name: string; make: (t: Topology, baseline: string) => Row }[] = [
  {
    name: 'capture',
    make: (t, b) => {
      const args = ['capture', '-i', t.host, 'icmp'];
      return netRow(t, b, {
        name: 'capture', args, writes: args, restart: [...args, '--duration', '1'], ready: /listening on/, summaryOnStderr: true,
        summary: /\d+ packets captured\n\d+ packets received by filter\n/, names: /^tsbpf_capture$/,
      });
    },
  },
  {
    name: 'xdp-shield',
    make: (t, b) => {
      const args = ['xdp-shield', t.host, '--generic', '--block', `${t.a4}/32`];
      return netRow(t, b, {
        name: 'xdp-shield', args, writes: [...args, '--stats', '--interval', '0.3'], restart: [...args, '--duration', '1'],
        ready: /attached to/, summary: /^ACTION +VERDICT +PACKETS +BYTES *\n/m, names: /^xdp_shield$/,
        afterKill: async () => {
          // its bpf_link died with it: the maps stay pinned and nothing enforces them
          assert.ok(await eventually(() => /no XDP/.test(ifaceState(t.host))), 'the bpf_link went with the process');
          assert.ok(existsSync(`${PIN_ROOT}/${t.host}/shield_cfg`), 'maps still pinned');
          for (const cmd of [['status'], ['block', '192.0.2.0/24'], ['allow', '192.0.2.0/24']]) {
            const r = tsbpf(['xdp-shield', t.host, ...cmd]);
            assert.equal(r.status, 1, `${cmd[0]}: ${r.stdout}`);
            assert.match(r.stderr, new RegExp(`the shield pinned at \\S+ is not attached to ${t.host} \\(left by pid \\d+ \\(no longer running\\)\\)`));
          }
        },
        restartReport: new RegExp(`found what pid \\d+ \\(no longer running\\) left on ${t.host}: 7 pinned maps at \\S+; removing it`),
      });
    },
  },
  {
    name: 'xdp-shield --netlink',
    make: (t, b) => {
      const args = ['xdp-shield', t.host, '--generic', '--netlink', '--block', `${t.a4}/32`];
      return netRow(t, b, {
        name: 'xdp-shield --netlink', args, writes: [...args, '--stats', '--interval', '0.3'], restart: [...args, '--duration', '1'],
        ready: /attached to/, summary: /^ACTION +VERDICT +PACKETS +BYTES *\n/m, names: /^xdp_shield$/,
        afterKill: async () => {
          // the interface holds the program: still attached and dropping, its maps pinned
          assert.match(ifaceState(t.host), /XDP attached/);
          assert.ok(existsSync(`${PIN_ROOT}/${t.host}/shield_cfg`));
        },
        restartReport: new RegExp(`found what pid \\d+ \\(no longer running\\) left on ${t.host}: 7 pinned maps at \\S+, XDP program \\d+ \\(xdp_shield\\) attached by netlink, still dropping; removing it`),
      });
    },
  },
  {
    name: 'tc-limit',
    make: (t, b) => {
      const args = ['tc-limit', t.host, '--egress', '--rate', '10mbit'];
      return netRow(t, b, {
        name: 'tc-limit', args, writes: [...args, '--stats', '--interval', '0.3'], restart: [...args, '--duration', '1'],
        ready: /limited to/, summary: / +PACKETS +BYTES\npass /, names: /^tc_limit$/,
        // the tcx link goes with the process; the fq root qdisc it puts in place for pacing (where the
        // kernel has fq) stays, and the restart puts the old one back (clean() checks the qdiscs)
      });
    },
  },
  {
    name: 'tc-limit --netlink',
    make: (t, b) => {
      const args = ['tc-limit', t.host, '--ingress', '--rate', '10mbit', '--netlink'];
      return netRow(t, b, {
        name: 'tc-limit --netlink', args, writes: [...args, '--stats', '--interval', '0.3'], restart: [...args, '--duration', '1'],
        ready: /limited to/, summary: / +PACKETS +BYTES\npass /, names: /^tc_limit$/,
        afterKill: async () => {
          assert.match(ifaceState(t.host), /qdisc clsact .*filter .*tc_limit/s);
        },
        restartReport: new RegExp(`found what pid \\d+ \\(no longer running\\) left on ${t.host}: cls_bpf filter tc_limit \\(program \\d+\\) on clsact ingress, clsact qdisc; removed`),
      });
    },
  },
];

test('network commands ended as users end them, each interface left as it was', { concurrency: ROWS.length }, async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'script') || !needsCommand(t, 'tc')) return;
  await Promise.all(ROWS.map(({ name, make }) =>
    t.test(`${name}: ${Object.keys(ENDINGS).join(', ')}`, async (tt) => {
      const topo = topology('en');
      let ping: ChildProcess | undefined;
      try {
        const baseline = ifaceState(topo.host);
        ping = topo.spawn('A', ['ping', '-q', '-i', '0.2', topo.host4]);
        const row = make(topo, baseline);
        // one interface: its endings one after the other
        for (const [ending, check] of Object.entries(ENDINGS)) await tt.test(ending, () => check(row));
      } finally {
        ping?.kill();
        tsbpf(['xdp-shield', topo.host, 'stop']);
        topo.close();
      }
    }),
  ));
});
