// `tsbpf capture` as a command: file mode against tcpdump, pcap output, errors (bad expression,
// unknown interface, no privileges) and live capture on loopback ended by -c and by Ctrl+C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../src/net/pcap.js';
import { formatPacket } from '../../src/net/print.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { corpusPcap } from './corpus.js';
import { LINKTYPE_NUMBERS, linkCorpusPcap } from './corpus-links.js';

const CLI = fileURLToPath(new URL('../../src/tools/capture/cli.js', import.meta.url));
// the loader flags of this process (tsx when run from source), not the test runner's
const NODE_ARGS = process.execArgv.filter((a) => !a.startsWith('--test'));
const runner = (args: string[]): string[] => [...NODE_ARGS, '--input-type=module', '-e',
  `const m = await import(${JSON.stringify(CLI.replace(/\.ts$/, '.js'))}); process.exitCode = await m.captureCommand(process.argv.slice(1));`, '--', ...args];

function cli(args: string[], o: { uid?: number } = {}): SpawnSyncReturns<string> {
  const cmd = o.uid === undefined ? process.execPath : 'setpriv';
  const argv = o.uid === undefined ? runner(args) : [`--reuid=${o.uid}`, `--regid=${o.uid}`, '--clear-groups', process.execPath, ...runner(args)];
  return spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 30000 });
}

function withCorpus(fn: (file: string, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));
  try {
    const file = join(dir, 'corpus.pcap');
    writeFileSync(file, corpusPcap());
    fn(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('-r prints one line per packet tcpdump keeps, -c stops early', (t) => {
  if (!needsCommand(t, 'tcpdump')) return;
  withCorpus((file) => {
    for (const expr of ['tcp[tcpflags] & tcp-syn != 0', 'udp port 53 or arp', 'icmp or icmp6']) {
      const r = cli(['-r', file, '--utc', expr]);
      assert.equal(r.status, 0, r.stderr);
      const want = readPcap(new Uint8Array(spawnSync('tcpdump', ['-r', file, '-w', '-', expr]).stdout)).records.map((p) => formatPacket(p, { utc: true }));
      assert.deepEqual(r.stdout.trimEnd().split('\n'), want, expr);
      assert.match(r.stderr, /reading from file .*corpus\.pcap, link-type EN10MB/);
    }
    const c = cli(['-r', file, '-c', '3', 'tcp']);
    assert.equal(c.stdout.trimEnd().split('\n').length, 3);
    const j = cli(['-r', file, '--json', 'arp']);
    const objs = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { time: number; wirelen: number; caplen: number; summary: string });
    assert.equal(objs.length, 3);
    assert.equal(objs[0]!.wirelen, 42);
    assert.match(objs[0]!.summary, /^ARP, Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1, length 28$/);
  });
});

/** A classic pcap file's records as a pcapng file (one interface of the same link type). */
function toPcapng(file: Uint8Array): Uint8Array {
  const { header, records } = readPcap(file);
  const blocks: Buffer[] = [];
  const block = (type: number, body: Buffer): void => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(12 + padded.length);
    const t = Buffer.alloc(4);
    t.writeUInt32LE(type);
    blocks.push(t, len, padded, len);
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  block(0x0a0d0d0a, shb);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(header.linktype, 0);
  block(1, idb);
  for (const r of records) {
    const h = Buffer.alloc(20);
    const ts = BigInt(r.sec) * 1000000n;
    h.writeUInt32LE(Number(ts >> 32n), 4);
    h.writeUInt32LE(Number(ts & 0xffffffffn), 8);
    h.writeUInt32LE(r.caplen, 12);
    h.writeUInt32LE(r.wirelen, 16);
    block(6, Buffer.concat([h, Buffer.from(r.data)]));
  }
  return new Uint8Array(Buffer.concat(blocks));
}

test('-r reads Linux cooked (v1, v2), raw IP and loopback captures, pcap and pcapng, filtering as tcpdump does', (t) => {
  if (!needsCommand(t, 'tcpdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-links-'));
  try {
    for (const link of ['sll', 'sll2', 'raw', 'null', 'loop'] as const) {
      for (const format of ['pcap', 'pcapng']) {
        const bytes = linkCorpusPcap(link);
        const file = join(dir, `${link}.${format}`);
        writeFileSync(file, format === 'pcap' ? bytes : toPcapng(bytes));
        for (const expr of ['tcp port 80 or udp', 'ip6 and not icmp6', 'host 10.0.0.1']) {
          const out = join(dir, 'out.pcap');
          const r = cli(['-r', file, '-w', out, expr]);
          assert.equal(r.status, 0, r.stderr);
          assert.match(r.stderr, new RegExp(`link-type ${link === 'raw' ? 'RAW' : link === 'null' ? 'NULL' : link === 'loop' ? 'LOOP' : link === 'sll' ? 'LINUX_SLL' : 'LINUX_SLL2'} `));
          const got = readPcap(readFileSync(out));
          assert.equal(got.header.linktype, LINKTYPE_NUMBERS[link], `${link} ${format}: the output keeps the link type`);
          const want = readPcap(new Uint8Array(spawnSync('tcpdump', ['-r', file, '-w', '-', expr]).stdout)).records;
          assert.ok(want.length > 0, `${link} '${expr}'`);
          assert.deepEqual(got.records.map((p) => p.sec), want.map((p) => p.sec), `${link} ${format} '${expr}'`);
        }
        // printed: one line per packet, the IP layer found behind the link header
        const lines = cli(['-r', file, '--utc', 'ip and udp']).stdout.trimEnd().split('\n');
        assert.ok(lines.length > 3 && lines.every((l) => / IP /.test(l)), `${link} ${format}: ${lines[0]}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-r -w writes a pcap file tcpdump reads, with exactly the packets tcpdump keeps', (t) => {
  if (!needsCommand(t, 'tcpdump')) return;
  withCorpus((file, dir) => {
    const out = join(dir, 'out.pcap');
    const expr = 'vlan or (ip6 and udp) or ether broadcast';
    const r = cli(['-r', file, '-w', out, expr]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    const back = spawnSync('tcpdump', ['-r', out, '-w', '-']);
    assert.equal(back.status, 0, back.stderr.toString());
    const want = readPcap(new Uint8Array(spawnSync('tcpdump', ['-r', file, '-w', '-', expr]).stdout)).records;
    const got = readPcap(new Uint8Array(back.stdout)).records;
    assert.ok(want.length > 5);
    assert.deepEqual(got.map((p) => [p.sec, p.wirelen, Buffer.from(p.data).toString('hex')]), want.map((p) => [p.sec, p.wirelen, Buffer.from(p.data).toString('hex')]));
  });
});

test('-d prints the compiled program', () => {
  const r = cli(['-d', 'tcp port 80']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /r6 = r1/);
  assert.match(r.stdout, /skb\[/);
  assert.match(r.stdout, /exit/);
});

test('errors: bad expression (with a caret), unreadable file, -i with -r', () => {
  withCorpus((file) => {
    // as tcpdump, the file is opened first (its link type decides how the filter compiles)
    const bad = cli(['-r', file, 'tcp port 80 and (host 10.0.0.1']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /bad filter expression: missing \) at column 31\n {2}tcp port 80 and \(host 10\.0\.0\.1\n {32}\^/);
    const empty = cli(['-r', '/dev/null', 'tcp']);
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /\/dev\/null: not a capture file/);
  });
  const missing = cli(['-r', '/nonexistent/x.pcap']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read \/nonexistent\/x\.pcap/);
  withCorpus((file, dir) => {
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, readFileSync(file).subarray(0, 100));
    const cut = cli(['-r', junk]);
    assert.notEqual(cut.status, 0);
    assert.match(cut.stderr, /truncated dump file; tried to read \d+ captured bytes, only got \d+/);
  });
  withCorpus((file, dir) => {
    const wifi = readFileSync(file);
    wifi.writeUInt32LE(105, 20); // LINKTYPE_IEEE802_11
    const other = join(dir, 'wifi.pcap');
    writeFileSync(other, wifi);
    const r = cli(['-r', other, 'tcp']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /link type 105 is not supported \(tsbpf reads Ethernet, Linux cooked v1\/v2, raw IP and BSD\/OpenBSD loopback captures\)/);
  });
  const both = cli(['-r', '/dev/null', '-i', 'lo']);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /either -i or -r/);
});

test('live: unknown interface and missing privileges give a clear error', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'setpriv')) return;
  const r = cli(['-i', 'nosuch0', 'tcp']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no such interface 'nosuch0'/);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));
  try {
    chmodSync(dir, 0o755);
    const p = cli(['-i', 'lo', 'icmp'], { uid: 65534 });
    assert.notEqual(p.status, 0);
    // said before anything is tried: what is needed and what is missing, on one line
    assert.match(p.stderr, /^tsbpf capture: capture needs root, or CAP_BPF and CAP_NET_RAW: this process lacks CAP_BPF and CAP_NET_RAW \(run it as root/);
    assert.equal(p.stderr.trim().split('\n').length, 1, p.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const PING_LO = `
import socket, struct, time, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def csum(b):
    s_ = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s_ = (s_ >> 16) + (s_ & 0xffff); s_ += s_ >> 16
    return ~s_ & 0xffff
for i in range(int(sys.argv[1])):
    h = struct.pack('!BBHHH', 8, 0, 0, 4242, i) + b'tsbpf-cli'
    h = h[:2] + struct.pack('!H', csum(h + b'\\0')) + h[4:]
    s.sendto(h, ('127.0.0.1', 0))
    u.sendto(b'hello', ('127.0.0.1', 5999))
    time.sleep(0.05)
`;

/** Start the CLI, wait for "listening on", run `then`, and collect its output. */
function liveCli(args: string[], then: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, runner(args), { env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`capture did not finish: ${stderr}`));
    }, 20000);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!started && stderr.includes('listening on')) {
        started = true;
        then(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('live on loopback: -c ends the capture; Ctrl+C ends it with the packets written', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'python3')) return;
  const r = await liveCli(['-i', 'lo', '-c', '4', 'icmp[icmptype] = icmp-echo or icmp[icmptype] = icmp-echoreply'], () => {
    spawnSync('python3', ['-c', PING_LO, '3']);
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{6} IP 127\.0\.0\.1 > 127\.0\.0\.1: ICMP echo request, id 4242, seq 0, length 17$/);
  assert.match(lines[1]!, /ICMP echo reply, id 4242, seq 0/);
  assert.match(r.stderr, /4 packets captured/);

  // all interfaces: loopback packets once each, as on -i lo
  const any = await liveCli(['-i', 'any', '-c', '2', 'icmp and icmp[4:2] = 4242'], () => {
    spawnSync('python3', ['-c', PING_LO, '1']);
  });
  assert.equal(any.code, 0, any.stderr);
  assert.deepEqual(any.stdout.trimEnd().split('\n').map((l) => l.replace(/^\S+ /, '')), [
    'IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 4242, seq 0, length 17',
    'IP 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 4242, seq 0, length 17',
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));
  try {
    const out = join(dir, 'udp.pcap');
    const s = await liveCli(['-i', 'lo', '-w', out, 'udp dst port 5999'], (child) => {
      spawnSync('python3', ['-c', PING_LO, '5']);
      setTimeout(() => child.kill('SIGINT'), 200);
    });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /5 packets captured/);
    const recs = readPcap(new Uint8Array(readFileSync(out))).records;
    assert.equal(recs.length, 5);
    for (const p of recs) assert.equal(Buffer.from(p.data.subarray(p.data.length - 5)).toString(), 'hello');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
