// Live capture on a veth pair with real traffic: for each expression of a table, the packets tsbpf
// captures (filter compiled by tsbpf, attached to an AF_PACKET socket) are exactly the packets
// tcpdump captures live with the same expression; and on tcpdump's unfiltered capture of the same
// traffic, tsbpf's file filter keeps what `tcpdump -r` keeps. Every filter program tsbpf loaded is gone afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture, filterFile, type CapturedPacket, type LiveCapture } from '../../src/tools/capture/capture.js';
import { readPcap } from '../../src/net/pcap.js';
import { summary } from '../../src/net/print.js';
import { loadedProgramIds, needsCommand, needsRoot } from '../helpers/kernel.js';
import { sendTraffic, vethPair } from './veth.js';

const LIVE_EXPRESSIONS = (mac: string): string[] => [
  '', 'ip', 'ip6', 'arp', 'tcp', 'udp', 'icmp', 'icmp6', 'not ip and not ip6',
  'host 10.201.0.2', 'src host 10.201.0.1', 'dst host 10.201.0.2', 'host fd00:201::2', 'ip6 src host fd00:201::1',
  'net 10.201.0.0/24', 'net 10.201.100.0/24', 'ip6 net fd00:201::/64', 'arp host 10.201.0.2',
  'port 53', 'udp port 53', 'tcp port 8080', 'port 8080 or port 81', 'src port 8080', 'dst port 7777', 'udp and not port 53',
  'portrange 50-60', 'tcp portrange 8000-8100', 'tcp and (port 8080 or 81) and host 10.201.0.2',
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)', 'tcp[tcpflags] & tcp-rst != 0',
  'tcp[tcpflags] & tcp-fin != 0', 'tcp[tcpflags] & tcp-push != 0',
  'icmp[icmptype] = icmp-echo', 'icmp[icmptype] = icmp-echoreply', 'icmp[icmptype] = icmp-unreach', 'icmp6[icmp6type] = icmp6-echo',
  'icmp6 and ip6[40] = 135', 'ip[6:2] & 0x1fff != 0', 'ip[6] & 0x20 != 0', 'ip[0] & 0xf > 5', 'ip6[6] = 44', 'ip and ip[8] = 64',
  'len > 1000', 'less 100', 'greater 500', 'ether[12:2] = 0x0800',
  'vlan', 'vlan 100', 'vlan 100 and udp port 53', 'vlan and icmp', 'not vlan', 'not vlan and udp', 'vlan 200', 'vlan 10 and vlan 100 and udp', 'vlan and vlan', 'vlan and not udp',
  'ether broadcast', 'ether multicast', 'ip6 multicast', 'arp and ether broadcast', `ether src ${mac}`, `ether dst ${mac} and tcp`,
  'inbound', 'outbound and icmp', 'inbound and vlan',
  'net 10.201', 'host 10.201.0.2 or 10.201.0.1 and tcp', 'protochain 6', 'ip6 protochain 58', `ether src ${mac.replace(/:/g, '')}`, 'ether proto \\ip6',
];
/** expressions about the direction of travel, which a file does not record */
const LIVE_ONLY = /inbound|outbound/;
/**
 * tcpdump's arguments for an expression when not the expression itself: libpcap filters the first
 * ring block in user space, where its interpreter cannot read the packet type, so its own
 * `inbound`/`outbound` lose the first packets; its -Q option (checked per packet) is exact.
 */
const TCPDUMP_ARGS: Record<string, string[]> = {
  inbound: ['-Q', 'in'],
  'outbound and icmp': ['-Q', 'out', 'icmp'],
  'inbound and vlan': ['-Q', 'in', 'vlan'],
};

const key = (d: Uint8Array): string => Buffer.from(d).toString('hex');

function startTcpdump(iface: string, file: string, expr: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const special = TCPDUMP_ARGS[expr];
    const args = special ? [...special.slice(0, 2), '--', ...special.slice(2)] : expr ? ['--', expr] : [];
    const p = spawn('tcpdump', ['-i', iface, '--immediate-mode', '-U', '-w', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) resolve(p);
    });
    p.on('exit', (code) => reject(new Error(`tcpdump '${expr}' exited with ${code}: ${err}`)));
  });
}

const stop = (p: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    p.removeAllListeners('exit');
    p.on('exit', () => resolve());
    p.kill('SIGINT');
  });

test('live capture matches tcpdump on the same traffic, for every expression', { timeout: 120000 }, async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'tcpdump') || !needsCommand(t, 'python3') || !needsCommand(t, 'bpftool')) return;
  const pair = await vethPair('cap');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-live-'));
  const dumps: ChildProcess[] = [];
  const caps: LiveCapture[] = [];
  const ids: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1500)); // let link-up chatter (MLD) pass
    const exprs = LIVE_EXPRESSIONS(pair.localMac);
    assert.ok(exprs.length >= 50);
    const got: CapturedPacket[][] = exprs.map(() => []);
    const loops: Promise<void>[] = [];
    exprs.forEach((expr, i) => {
      const c = capture({ iface: pair.local, filter: expr, ring: { frames: 256, frameSize: 4096 } });
      caps.push(c);
      ids.push(c.programId);
      loops.push((async () => {
        for await (const p of c) got[i]!.push(p);
      })());
    });
    const all = join(dir, 'all.pcap');
    dumps.push(...(await Promise.all(exprs.map((e, i) => startTcpdump(pair.local, join(dir, `${i}.pcap`), e)))));
    dumps.push(await startTcpdump(pair.local, all, ''));
    await new Promise((r) => setTimeout(r, 300));
    // compare what happened while the traffic ran: link chatter (MLD, ARP refreshes) outside it may
    // reach captures that started or stopped a moment apart
    const t0 = Date.now() / 1000;
    sendTraffic(pair);
    const t1 = Date.now() / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const inWindow = (p: { sec: number; nsec: number }): boolean => p.sec + p.nsec / 1e9 >= t0 && p.sec + p.nsec / 1e9 <= t1;
    await Promise.all(dumps.map(stop));
    caps.forEach((c, i) => {
      got[i]!.push(...c.takeReady());
      c.close();
    });
    await Promise.all(loops);

    const allBytes = new Uint8Array(readFileSync(all));
    const failures: string[] = [];
    exprs.forEach((expr, i) => {
      const theirs = readPcap(new Uint8Array(readFileSync(join(dir, `${i}.pcap`)))).records;
      const diff = (x: string[], y: string[]): string => {
        const ys = new Set(y);
        return x.filter((k) => !ys.has(k)).map((k) => summary(Buffer.from(k, 'hex'))).slice(0, 3).join(' | ');
      };
      const a = got[i]!.filter(inWindow).map((p) => key(p.data)).sort();
      const b = theirs.filter(inWindow).map((p) => key(p.data)).sort();
      if (a.join() !== b.join()) failures.push(`live '${expr}': tsbpf ${a.length}, tcpdump ${b.length}; only tsbpf: ${diff(a, b)}; only tcpdump: ${diff(b, a)}`);
      if (LIVE_ONLY.test(expr)) return;
      // from a file, tcpdump's own file filter is the reference: on live sockets libpcap tests VLAN
      // tags in skb metadata, in a file the tags are in the bytes, and `ip` means different things
      const r = spawnSync('tcpdump', ['-r', all, '-w', '-', ...(expr ? ['--', expr] : [])], { maxBuffer: 1 << 26 });
      const fileRef = r.status === 0 ? readPcap(new Uint8Array(r.stdout)).records.map((p) => key(p.data)).sort() : [];
      const f = [...filterFile(allBytes, expr)].map((p) => key(p.data)).sort();
      if (r.status !== 0 && !/rejects all packets/.test(r.stderr.toString())) failures.push(`tcpdump -r '${expr}': ${r.stderr.toString()}`);
      if (f.join() !== fileRef.join()) failures.push(`file '${expr}': tsbpf ${f.length}, tcpdump -r ${fileRef.length}; only tsbpf: ${diff(f, fileRef)}; only tcpdump: ${diff(fileRef, f)}`);
    });
    // the traffic really exercised the table: most expressions matched something
    const nonEmpty = got.filter((g) => g.filter(inWindow).length > 0).length;
    assert.ok(nonEmpty >= exprs.length - 3, `only ${nonEmpty} expressions captured anything`);
    assert.deepEqual(failures, []);
  } finally {
    for (const d of dumps) d.kill('SIGKILL');
    for (const c of caps) c.close();
    pair.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // the sockets held the filter programs; closed sockets release them (freed after an RCU grace period)
  for (let k = 0; ; k++) {
    const still = new Set(loadedProgramIds());
    const left = ids.filter((id) => still.has(id));
    if (!left.length) break;
    if (k > 40) assert.fail(`filter programs still loaded: ${left.join(',')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
