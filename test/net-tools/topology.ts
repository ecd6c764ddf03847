// The network the network-tool tests run on, created per test and removed after it:
//
//   this namespace          namespace A (router)            namespace B
//   host ─── veth ─────────── a0   a1 ─── veth ────────────── b0
//   10.N.1.1  fdNN:1::1       .1.2  10.N.2.1 fdNN:2::1        10.N.2.2  fdNN:2::2
//
// `host` is the interface under test (XDP, tc). A's own traffic and B's (forwarded by A) both
// arrive on it, from different sources: one namespace can be blocked or flooding while the other's
// connections must get through. Names and subnets are unique per process and test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repoPath } from '../helpers/objects.js';

export interface Topology {
  id: string;
  /** interface in this namespace (the shield / limiter goes here) */
  host: string;
  nsA: string;
  nsB: string;
  host4: string;
  host6: string;
  a4: string;
  a6: string;
  b4: string;
  b6: string;
  /** run a command in namespace A or B */
  exec(ns: 'A' | 'B', cmd: string[], o?: { timeout?: number; input?: string }): string;
  spawn(ns: 'A' | 'B', cmd: string[]): ChildProcess;
  close(): void;
}

let counter = 0;

const run = (args: string[]): void => void execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });

/** The first 10.N.0.0/16 from `start` that no address or route here uses (a topology another test
 *  process left behind, or the machine's own networks). */
function freeNet(start: number): number {
  const used = execFileSync('sh', ['-c', 'ip -4 -o addr show; ip -4 route show table all'], { encoding: 'utf8' });
  for (let i = 0; i < 150; i++) {
    const net = 100 + ((start - 100 + i) % 150);
    if (!new RegExp(`\\b10\\.${net}\\.`).test(used)) return net;
  }
  throw new Error('no free 10.N.0.0/16 for a test topology');
}

/** A new topology. Test files run in parallel processes: two can pick the same free subnet at
 *  once, and the loser's `ip route add` fails with EEXIST; it then tries the next one. */
export function topology(tag: string): Topology {
  for (let attempt = 0; ; attempt++) {
    try {
      return build(tag);
    } catch (e) {
      if (attempt === 4 || !/File exists/.test(String((e as { stderr?: unknown }).stderr ?? e))) throw e;
    }
  }
}

function build(tag: string): Topology {
  const n = process.pid % 1000;
  const k = counter++;
  const id = `${tag}${n}${k}`.slice(0, 9);
  const net = freeNet(100 + ((process.pid + k * 7) % 120));
  const hex = (0x100 + net).toString(16);
  const nsA = `tsbpf-${id}-A`;
  const nsB = `tsbpf-${id}-B`;
  const host = `${id}h`;
  const t: Topology = {
    id, host, nsA, nsB,
    host4: `10.${net}.1.1`, a4: `10.${net}.1.2`, b4: `10.${net}.2.2`,
    host6: `fd00:${hex}:1::1`, a6: `fd00:${hex}:1::2`, b6: `fd00:${hex}:2::2`,
    exec: (ns, cmd, o = {}) =>
      execFileSync('ip', ['netns', 'exec', ns === 'A' ? nsA : nsB, ...cmd], { encoding: 'utf8', timeout: o.timeout ?? 30_000, input: o.input, stdio: ['pipe', 'pipe', 'pipe'] }),
    spawn: (ns, cmd) => spawn('ip', ['netns', 'exec', ns === 'A' ? nsA : nsB, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] }),
    close: () => {
      for (const c of [['ip', 'link', 'del', host], ['ip', 'netns', 'del', nsA], ['ip', 'netns', 'del', nsB]]) {
        try {
          run(c);
        } catch {
          // already gone
        }
      }
    },
  };
  try {
    run(['ip', 'netns', 'add', nsA]);
    run(['ip', 'netns', 'add', nsB]);
    run(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'a0', 'netns', nsA]);
    run(['ip', '-n', nsA, 'link', 'add', 'a1', 'type', 'veth', 'peer', 'name', 'b0', 'netns', nsB]);
    const sys = (ns: string, kv: string): void => run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', kv]);
    sys(nsA, 'net.ipv4.ip_forward=1');
    sys(nsA, 'net.ipv6.conf.all.forwarding=1');
    const addr = (ns: string | undefined, dev: string, a4: string, a6: string): void => {
      const pre = ns ? ['ip', '-n', ns] : ['ip'];
      run([...pre, 'addr', 'add', `${a4}/24`, 'dev', dev]);
      run([...pre, '-6', 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad']);
      run([...pre, 'link', 'set', dev, 'up']);
    };
    addr(undefined, host, t.host4, t.host6);
    addr(nsA, 'a0', t.a4, t.a6);
    addr(nsA, 'a1', `10.${net}.2.1`, `fd00:${hex}:2::1`);
    addr(nsB, 'b0', t.b4, t.b6);
    for (const ns of [nsA, nsB]) run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    run(['ip', 'route', 'add', `10.${net}.2.0/24`, 'via', t.a4, 'dev', host]);
    run(['ip', '-6', 'route', 'add', `fd00:${hex}:2::/64`, 'via', t.a6, 'dev', host]);
    run(['ip', '-n', nsB, 'route', 'add', 'default', 'via', `10.${net}.2.1`]);
    run(['ip', '-n', nsB, '-6', 'route', 'add', 'default', 'via', `fd00:${hex}:2::1`]);
    // a first ping each way fills the neighbour tables, so later counts are about the test's packets
    for (const [ns, dst] of [['A', t.host4], ['B', t.host4], ['A', t.host6], ['B', t.host6]] as const) {
      for (let i = 0; ; i++) {
        try {
          t.exec(ns, ['ping', ...(dst.includes(':') ? ['-6'] : []), '-c', '1', '-W', '1', dst]);
          break;
        } catch (e) {
          if (i === 4) throw e;
        }
      }
    }
    return t;
  } catch (e) {
    t.close();
    throw e;
  }
}

/** How to run the tsbpf CLI in a child: the built bin from dist/, else the sources through tsx. */
export const CLI: string[] = fileURLToPath(import.meta.url).includes('/dist/') ? [repoPath('bin/tsbpf')] : ['--import', 'tsx', repoPath('src/cli/main.ts')];

/** TCP connect from a namespace (python): prints "ok" or the error; exits 0 either way. */
export const CONNECT_PY = `
import socket, sys
host, port, n, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ok = 0
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        s.sendall(b'hello')
        s.close()
        ok += 1
    except OSError as e:
        pass
print(ok)
`;

/** UDP datagrams from a namespace: count, interval (s). */
export const UDP_PY = `
import socket, sys, time
host, port, n, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b'%d' % i, (host, port))
    if gap: time.sleep(gap)
`;

/** Raw TCP SYNs (new source port each) at a steady rate: host, port, count, rate/s. Prints the count sent. */
export const SYN_FLOOD_PY = `
import socket, struct, sys, time, random
dst, port, n, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); probe.connect((dst, port)); src = probe.getsockname()[0]; probe.close()
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
start = time.time(); sent = 0
for i in range(n):
    sport = 10000 + (i % 50000)
    h = struct.pack('!HHIIBBHHH', sport, port, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(h))
    h = h[:16] + struct.pack('!H', csum(pseudo + h)) + h[18:]
    sock.sendto(h, (dst, 0)); sent += 1
    ahead = start + (i + 1) / rate - time.time()
    if ahead > 0: time.sleep(ahead)
print(sent)
`;
