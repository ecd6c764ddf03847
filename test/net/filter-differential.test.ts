// The filter means what tcpdump means: for each expression, the packets of a varied capture that
// tsbpf's compiled program accepts — run by the kernel (BPF_PROG_TEST_RUN) and by the user-space
// translation used for `capture -r` — are exactly the packets `tcpdump -r FILE -w - EXPR` keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFilter, packetFilter } from '../../src/net/filter/compile.js';
import { readPcap } from '../../src/net/pcap.js';
import { loadFilterProgram, testRunFilter } from '../../src/tools/capture/filter-program.js';
import { loadedProgramIds, needsCommand, needsRoot } from '../helpers/kernel.js';
import { Vm } from '../../src/vm/index.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { BASE_SEC, CUT_SHORT, corpusPcap } from './corpus.js';

export const EXPRESSIONS = [
  '', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'esp',
  'host 10.0.0.1', 'src host 10.0.0.1', 'dst host 10.0.0.2', 'host 10.0.0.1 or 10.0.0.2', 'src or dst host 10.0.0.2',
  'src and dst host 10.0.0.1', 'ip host 192.168.1.10', 'arp host 10.0.0.2', 'host fe80::1', 'ip6 dst host ::1',
  'net 10.0.0.0/8', 'src net 192.168.0.0/16', 'net 10.0.0.0 mask 255.255.255.0', 'net 172.16', 'dst net 10.1.0.0/16 or net 8.8.8.0/24',
  'ip6 net 2001:db8::/32', 'net fe80::/10',
  'port 80', 'tcp port 80', 'udp port 53', 'src port 53', 'dst port 53', 'port http', 'port domain or port ntp', 'tcp dst port 443',
  'portrange 1000-2000', 'tcp portrange 1-1024', 'udp src portrange 60-70', 'tcp port 80 or 443', 'sctp port 80', 'port 22 and not host 10.0.0.1',
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)',
  'tcp[13] & 4 != 0', 'tcp[tcpflags] = tcp-ack', 'tcp[tcpflags] & tcp-urg != 0', 'tcp[tcpflags] & (tcp-ece|tcp-cwr) != 0', 'tcp[tcpflags] & tcp-fin != 0 or tcp[tcpflags] & tcp-rst != 0',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] == icmp-echoreply', 'icmp[0] != 8 and icmp[0] != 0', 'icmp6[icmp6type] = icmp6-echo', 'icmp6 and ip6[40] = 135',
  'ip[8] < 60', 'ip[8] = 64', 'ip[0] & 0xf > 5', 'ip[0] & 0xf != 5', 'ip[6:2] & 0x1fff != 0', 'ip[6] & 0x20 != 0', 'ip[2:2] > 40',
  'ether[0] & 1 != 0', 'ether[12:2] = 0x86dd', 'ether[0:4] = 0xffffffff', 'ether host 00:11:22:33:44:55', 'ether dst 66:77:88:99:aa:bb', 'ether src 00:11:22:33:44:55 and not arp',
  'ether proto 0x88cc', 'ether proto \\arp', 'ip proto 47', 'ip proto \\udp', 'proto \\tcp', 'ip6 proto 17', 'proto 58',
  'broadcast', 'ether broadcast', 'multicast', 'ip multicast', 'ip6 multicast', 'ip broadcast',
  'len > 100', 'len <= 60', 'greater 80', 'less 64', 'len - 14 > 50', 'len * 2 >= 200', 'len / 2 < 40', 'len % 7 = 3', 'len & 1 = 1', 'len >> 2 = 16', 'len << 1 > 150', 'len ^ 1 = 61', '-len + 200 > 100',
  'vlan', 'vlan 100', 'vlan 200 and ip6', 'vlan and tcp', 'vlan 100 and udp port 53', 'vlan and vlan 20', 'vlan 5 and vlan 100 and udp', 'not vlan', 'vlan and arp',
  'not ip', 'not tcp and not udp', '!(tcp || udp) && ip', 'ip and not icmp or arp', 'tcp or udp and host 10.0.0.1', '(tcp or udp) and (port 53 or port 80)',
  'host 10.0.0.1 and (port 80 or 443)', 'not host 10.0.0.1 and 10.0.0.2', 'tcp and (ip[ip[0] & 0xf] = 0 or tcp[0:2] = 80)', 'udp[8:2] = 0x0707',
  'ip[ip[0]&0xf] != 1', 'tcp[0:2] > tcp[2:2]', 'udp[4:2] - 8 = 12', 'ip6[6] = 44', 'ip and ip[9] + 1 = 7',
];

/**
 * Expressions whose verdict on a frame cut short inside its headers depends on the ORDER of loads:
 * a load past the end drops the packet at once (classic BPF and eBPF alike), and libpcap's
 * optimizer reorders loads (here it tests the source port for 53 and 80 before any destination
 * port), so on such frames tcpdump may accept what a straightforward evaluation drops.
 */
const ORDER_DEPENDENT = new Set(['(tcp or udp) and (port 53 or port 80)']);

/** Indices of the packets tcpdump keeps, from its -w output; undefined when tcpdump says the filter matches nothing. */
function tcpdumpKeeps(file: string, expr: string): Set<number> {
  const r = spawnSync('tcpdump', ['-r', file, '-w', '-', ...(expr ? ['--', expr] : [])], { maxBuffer: 1 << 26 });
  const err = r.stderr.toString();
  if (r.status !== 0) {
    if (/rejects all packets/.test(err)) return new Set();
    throw new Error(`tcpdump failed on '${expr}': ${err}`);
  }
  return new Set(readPcap(new Uint8Array(r.stdout)).records.map((rec) => rec.sec - BASE_SEC));
}

test('filters accept exactly the packets tcpdump keeps (kernel test run and user-space translation)', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'tcpdump') || !needsCommand(t, 'bpftool')) return;
  assert.ok(EXPRESSIONS.length >= 50);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-filter-'));
  const created: number[] = [];
  try {
    const file = join(dir, 'corpus.pcap');
    const bytes = corpusPcap();
    writeFileSync(file, bytes);
    const { records } = readPcap(bytes);
    const failures: string[] = [];
    for (const expr of EXPRESSIONS) {
      const want = tcpdumpKeeps(file, expr);
      const compared = (i: number) => !ORDER_DEPENDENT.has(expr) || i < records.length - CUT_SHORT;
      for (const i of [...want]) if (!compared(i)) want.delete(i);
      const f = compileFilter(expr);
      const js = packetFilter(f);
      const prog = loadFilterProgram(f);
      created.push(prog.id);
      try {
        const kernel = new Set<number>();
        const user = new Set<number>();
        records.forEach((rec, i) => {
          if (!compared(i)) return;
          if (testRunFilter(prog, rec.data) !== 0) kernel.add(i);
          if (js(rec.data, 0, rec.caplen, rec.wirelen) !== 0) user.add(i);
        });
        const fmt = (s: Set<number>) => [...s].sort((a, b) => a - b).join(',');
        if (fmt(kernel) !== fmt(want)) failures.push(`'${expr}' kernel: got [${fmt(kernel)}]\n    want [${fmt(want)}]`);
        if (fmt(user) !== fmt(want)) failures.push(`'${expr}' user space: got [${fmt(user)}]\n    want [${fmt(want)}]`);
      } finally {
        prog.close();
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const still = new Set(loadedProgramIds());
    assert.deepEqual(created.filter((id) => still.has(id)), [], 'filter programs left loaded');
  }
});

test('the corpus covers what the table tests', () => {
  // every expression in the table must keep some packets and drop others, or it proves little
  const { records } = readPcap(corpusPcap());
  const trivial = EXPRESSIONS.filter((e) => e !== '').filter((e) => {
    const js = packetFilter(compileFilter(e));
    const n = records.filter((r) => js(r.data, 0, r.caplen, r.wirelen) !== 0).length;
    return n === 0 || n === records.length;
  });
  assert.deepEqual(trivial, []);
});


test("the user-space translation agrees with tsbpf's VM (verifier, interpreter and JIT) on every packet", () => {
  const { records } = readPcap(corpusPcap());
  const failures: string[] = [];
  for (const expr of EXPRESSIONS) {
    const f = compileFilter(expr);
    const js = packetFilter(f);
    for (const engine of ['interp', 'jit'] as const) {
      // the VM runs socket filters as BPF_PROG_TEST_RUN does (after a 14-byte pull): same dummy header
      const vm = Vm.loadSync(f.insns, { type: ProgramType.SOCKET_FILTER, engine });
      records.forEach((r, i) => {
        const data = new Uint8Array(r.data.length + 14);
        data.set(r.data, 14);
        const got = Number(vm.run(undefined, data).r0);
        const want = js(r.data, 0, r.caplen, r.wirelen);
        if (got !== want && failures.length < 10) failures.push(`'${expr}' ${engine} packet ${i}: vm ${got}, translation ${want}`);
      });
    }
  }
  assert.deepEqual(failures, []);
});
