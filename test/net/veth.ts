// A veth pair between the test's network namespace and a fresh one (with an HTTP server inside),
// created with iproute2 and removed in close(). VLAN traffic is injected as raw tagged frames (the
// kernel here has no 8021q): frames we send carry their tag inline, frames we receive have their
// outer tag moved into skb metadata by the kernel — both cases a live filter must handle.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface VethPair {
  ns: string;
  /** our end (in this namespace) */
  local: string;
  peer: string;
  localMac: string;
  /** addresses: ours .1, theirs .2 */
  net4: string;
  net6: string;
  close(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};
const sysctl = (ns: string | undefined, key: string, value: string): void => {
  const cmd = ['sysctl', '-qw', `${key}=${value}`];
  execFileSync(ns ? 'ip' : cmd[0]!, ns ? ['netns', 'exec', ns, ...cmd] : cmd.slice(1), { stdio: 'ignore' });
};

export async function vethPair(tag: string): Promise<VethPair> {
  const id = `${tag}${process.pid % 100000}`;
  const ns = `tsbpf-${id}`;
  const local = `${id}a`;
  const peer = `${id}b`;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-www-'));
  let server: ChildProcess | undefined;
  const close = (): void => {
    server?.kill('SIGKILL');
    try { ip('link', 'del', local); } catch { /* already gone */ }
    try { ip('netns', 'del', ns); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', local, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', ns);
    for (const [where, dev, me] of [[undefined, local, '1'], [ns, peer, '2']] as const) {
      const run = (...a: string[]): void => (where ? ip('-n', where, ...a) : ip(...a));
      run('link', 'set', dev, 'addrgenmode', 'none');
      sysctl(where, `net.ipv6.conf.${dev}.router_solicitations`, '0');
      run('addr', 'add', `10.201.0.${me}/24`, 'dev', dev);
      run('addr', 'add', `fd00:201::${me}/64`, 'dev', dev, 'nodad');
      run('link', 'set', dev, 'up');
    }
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    server = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '8080', '--bind', '::'], { cwd: dir, stdio: 'ignore' });
    // wait for the server (from inside its namespace, so no traffic crosses the veth)
    for (let k = 0; ; k++) {
      try {
        execFileSync('ip', ['netns', 'exec', ns, 'python3', '-c', "import socket; socket.create_connection(('::1', 8080), timeout=0.5).close()"], { stdio: 'ignore' });
        break;
      } catch {
        if (k > 50) throw new Error('http server in the namespace did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const localMac = readFileSync(`/sys/class/net/${local}/address`, 'utf8').trim();
    return { ns, local, peer, localMac, net4: '10.201.0', net6: 'fd00:201::', close };
  } catch (e) {
    close();
    throw e;
  }
}

/** Raw frames out of an interface: 802.1Q / QinQ tagged UDP and ICMP (argv: ifname, src ip, dst ip). */
export const VLAN_FRAMES_PY = `
import socket, struct, sys
ifname, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
mac = bytes.fromhex(open('/sys/class/net/%s/address' % ifname).read().strip().replace(':', ''))
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def ip4(proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
def frame(tags, payload):
    f = b'\\xff' * 6 + mac
    for tpid, vid in tags: f += struct.pack('!HH', tpid, vid)
    return f + b'\\x08\\x00' + payload
udp = lambda sport, dport, data: struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
icmp = struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'vlan-ping'
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
s.send(frame([(0x8100, 100)], ip4(17, udp(4000, 53, b'v' * 30))))
s.send(frame([(0x8100, 100)], ip4(1, icmp)))
s.send(frame([(0x8100, 200)], ip4(17, udp(4001, 5353, b'w' * 10))))
s.send(frame([(0x88a8, 10), (0x8100, 100)], ip4(17, udp(4002, 53, b'qinq'))))
s.send(frame([(0x8100, 100)], b'\\x00' * 10))
`;

/** Real traffic from this namespace to the peer: ICMP and ICMPv6 echo, UDP (some fragmented, some with IP options, some to closed ports), HTTP over IPv4 and IPv6, a refused TCP connection, and UDP/ICMP in 802.1Q and QinQ tagged frames both ways. */
export const TRAFFIC_PY = `
import socket, struct, time, http.client, sys
peer4, peer6 = sys.argv[1], sys.argv[2]
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def echo(sock, dst, typ, seq, v6=False):
    h = struct.pack('!BBHHH', typ, 0, 0, 0x7777, seq) + b'tsbpf-ping'
    if not v6: h = h[:2] + struct.pack('!H', csum(h)) + h[4:]
    sock.sendto(h, (dst, 0))
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
icmp6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
uo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uo.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b'\\x01\\x01\\x01\\x00')
for i in range(2):
    echo(icmp, peer4, 8, i); echo(icmp6, peer6, 128, i, True); time.sleep(0.02)
for port in (53, 5353, 7777):
    u.sendto(b'q' * 20, (peer4, port)); time.sleep(0.01)
uo.sendto(b'with-options', (peer4, 9999))
u.sendto(b'F' * 3000, (peer4, 53))
u6.sendto(b'y' * 10, (peer6, 53))
u6.sendto(b'G' * 3000, (peer6, 53))
time.sleep(0.05)
# http.client, not urllib: no proxy from the environment; a second try if the first one fails
for host in (peer4, peer6):
    for attempt in range(3):
        try:
            c = http.client.HTTPConnection(host, 8080, timeout=3)
            c.request('GET', '/'); c.getresponse().read(); c.close()
            break
        except OSError as e:
            if attempt == 2: raise
            print('http %s: %r, again' % (host, e), file=sys.stderr); time.sleep(0.2)
try:
    socket.create_connection((peer4, 81), timeout=1)
except OSError:
    pass
time.sleep(0.3)
`;

export function sendTraffic(p: VethPair): void {
  // forget the neighbours, so the traffic starts with ARP and neighbour discovery
  execFileSync('ip', ['neigh', 'flush', 'dev', p.local], { stdio: 'ignore' });
  execFileSync('ip', ['-n', p.ns, 'neigh', 'flush', 'dev', p.peer], { stdio: 'ignore' });
  python('traffic', [], TRAFFIC_PY, `${p.net4}.2`, `${p.net6}2`);
  python('tagged frames out', [], VLAN_FRAMES_PY, p.local, '10.201.100.1', '10.201.100.2');
  python('tagged frames in', ['ip', 'netns', 'exec', p.ns], VLAN_FRAMES_PY, p.peer, '10.201.100.2', '10.201.100.1');
}

/** Runs a generator script; its failure names the script and ends with Python's own last words (the script text would hide them). */
function python(what: string, prefix: string[], script: string, ...args: string[]): void {
  const argv = [...prefix, 'python3', '-c', script, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20000 });
  if (r.status === 0) return;
  const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  throw new Error(`${what} generator failed (${why}): ${r.stderr.toString().trim().split('\n').slice(-6).join(' / ')}`);
}
