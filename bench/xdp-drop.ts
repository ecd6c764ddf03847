// xdp-drop: packets per second dropped by xdp-shield — with its lists and rate limits: 64 block
// rules and 16 allow rules in its LPM tries, per-source SYN and packet-rate limits, the flood's
// source over its packet rate — against xdp-bench's `drop` (xdp-tools, the minimal drop program:
// count and XDP_DROP), native XDP on the same veth, the same flood. Goal: ≥ 0.9×.
//
// xdp-bench itself cannot start on this kernel: its statistics programs attach to tracepoints
// (xdp_redirect_map_err, ...) that kernels since 6.x no longer have, and libbpf loads the whole
// object. The benchmark therefore loads xdp-bench's own drop program — the BPF object embedded in
// /usr/sbin/xdp-bench, program xdp_basic_prog, its configuration as `xdp-bench drop` sets it
// (no-touch, no per-queue statistics) — with tsbpf, and attaches it as xdp-bench does: the bytes the
// kernel runs per packet are xdp-bench's.
//
// The flood generator is the kernel's own: BPF_PROG_TEST_RUN in live-frames mode
// (BPF_F_TEST_XDP_LIVE_FRAMES, 5.18+) runs a one-line XDP program that redirects a UDP frame out of
// one end of a veth pair, `repeat` times — millions of frames per second, with no socket or skb on
// the sending side, so what is measured is the receiving side. The receiving veth's NAPI runs in its
// own kernel thread (as a NIC's receive runs on its own CPU): the generator floods faster than the
// receiver takes frames, and what counts is how many packets per second each program gets through
// dropping. Rounds alternate the two programs; the ratio per round is refused when the rounds
// disagree by more than 15 %.
//
// What the figure says: the receiver keeps up with the generator only while its program costs
// about what xdp-bench's does, and falls well behind past that (measured 2026-12-06, both rounds
// alike: xdp-shield's source changed to drop first thing: 1.01x; the same plus one
// bpf_ktime_get_ns: 0.57x; the whole policy with the coarse clock instead: 0.62x; as it is: ~0.35x,
// ~40 ns a packet in BPF_PROG_TEST_RUN against ~7 ns, of which the clock is ~22 ns). A token
// bucket needs the time of each packet it judges, so ≥ 0.9x is out of reach for a shield with rate
// limits on this machine without giving up their exactness.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Program } from '../src/kernel/program.js';
import { Collection } from '../src/kernel/collection.js';
import { parseObject } from '../src/object/load-spec.js';
import { attachXdp } from '../src/link/net.js';
import { possibleCpuCount } from '../src/sys/cpus.js';
import { ProgramType } from '../src/uapi/bpf.js';
import { insn } from '../src/isa/instruction.js';
import { BPF_ALU64, BPF_MOV, BPF_K, BPF_JMP, BPF_CALL, BPF_EXIT } from '../src/isa/opcodes.js';
import { progTestRun } from '../src/sys/bpf.js';
import { ether, ipv4, udp, ETH_P_IP, IPPROTO } from '../src/net/craft.js';
import { DROP_ACTIONS, XdpShield } from '../src/tools/xdp-shield/index.js';
import { median, report } from './report.js';
import { spread, waitQuiet } from './lib/rounds.js';

const PACKETS = Number(process.env.PACKETS ?? 2_000_000);
const RUNS = Number(process.env.RUNS ?? 5);
const BPF_F_TEST_XDP_LIVE_FRAMES = 2;
const BPF_FUNC_redirect = 23;
const SRC = '198.18.0.1';

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const id = `xb${process.pid % 100000}`;
const gen = `${id}g`;
const recv = `${id}r`;

function ifindexOf(dev: string): number {
  return Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8').trim());
}

/** r0 = bpf_redirect(ifindex, 0); exit */
function generator(ifindex: number): Program {
  return Program.load({
    type: ProgramType.XDP,
    license: 'GPL',
    name: 'flood_gen',
    instructions: [
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, ifindex),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0),
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    ],
  });
}

/** Send PACKETS frames; returns seconds taken. */
function flood(prog: Program, frame: Uint8Array): number {
  const t0 = process.hrtime.bigint();
  progTestRun(prog.fd, { data: frame, repeat: PACKETS, flags: BPF_F_TEST_XDP_LIVE_FRAMES, dataOutSize: 0, batchSize: 64 });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** xdp-bench's drop program: the BPF ELF embedded in /usr/sbin/xdp-bench that holds xdp_basic_prog. */
function xdpBenchObject(): Uint8Array {
  const bin = readFileSync('/usr/sbin/xdp-bench');
  const magic = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  for (let off = bin.indexOf(magic, 1); off > 0; off = bin.indexOf(magic, off + 1)) {
    const dv = new DataView(bin.buffer, bin.byteOffset + off);
    if (dv.getUint16(18, true) !== 247) continue; // EM_BPF
    const size = Number(dv.getBigUint64(40, true)) + dv.getUint16(58, true) * dv.getUint16(60, true);
    const obj = new Uint8Array(bin.subarray(off, off + size));
    try {
      if (parseObject(obj, 'xdp_basic').programs.some((p) => p.name === 'xdp_basic_prog')) return obj;
    } catch {
      // another embedded object
    }
  }
  throw new Error('no xdp_basic_prog in /usr/sbin/xdp-bench (apt-get install xdp-tools)');
}

/** Load and attach xdp-bench's drop program as `xdp-bench drop` does; returns its packet count and a close. */
function xdpBenchDrop(iface: string, obj: Uint8Array): { processed: () => number; close: () => void } {
  const spec = parseObject(obj, 'xdp_basic');
  const cpus = possibleCpuCount();
  // xdp-bench sizes its per-CPU record arrays to the CPU count at load (libbpf's set_max_entries)
  for (const m of spec.maps) if (m.maxEntries === 0) m.maxEntries = cpus;
  const coll = Collection.fromSpec(spec, {
    programs: ['xdp_basic_prog'],
    constants: { nr_cpus: cpus, action: 1 /* XDP_DROP */, read_data: false, swap_macs: false, rxq_stats: false },
  });
  const link = attachXdp(coll.program('xdp_basic_prog'), iface);
  const rx = coll.map('rx_cnt');
  const processed = (): number => {
    let n = 0;
    for (let cpu = 0; cpu < cpus; cpu++) {
      const v = rx.lookup(new Uint8Array(new Uint32Array([cpu]).buffer));
      if (v) n += Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true));
    }
    return n;
  };
  return { processed, close: () => (link.close(), coll.close()) };
}

/** 64 block and 16 allow rules that do not match the flood, so every packet walks the tries. */
function lists(): { block: string[]; allow: string[] } {
  const block = Array.from({ length: 64 }, (_, i) => `10.${i}.0.0/16`);
  const allow = Array.from({ length: 16 }, (_, i) => `192.0.2.${i * 16}/28`);
  return { block, allow };
}

try {
  sh('ip', ['link', 'add', gen, 'type', 'veth', 'peer', 'name', recv]);
  for (const d of [gen, recv]) sh('ip', ['link', 'set', d, 'up']);
  const mac = (d: string): string => readFileSync(`/sys/class/net/${d}/address`, 'utf8').trim();
  const frame = ether(
    { dst: mac(recv), src: mac(gen), type: ETH_P_IP },
    ipv4({ src: SRC, dst: '198.18.0.2', proto: IPPROTO.UDP }, udp({ sport: 4000, dport: 9 }, new Uint8Array(18))),
  );
  using gp = generator(ifindexOf(gen));
  const loadAvg = await waitQuiet();
  const xb = xdpBenchObject();
  // GRO gives the veth a NAPI context of its own while no XDP program is attached, so the threaded
  // mode set once holds across the rounds' attach and detach
  sh('ethtool', ['-K', recv, 'gro', 'on']);
  writeFileSync(`/sys/class/net/${recv}/threaded`, '1');
  const ours: number[] = [];
  const ref: number[] = [];
  const offered = { ours: [] as number[], reference: [] as number[] };
  let dropAction = '';
  // round 0 warms both up and is not counted
  for (let i = 0; i <= RUNS; i++) {
    const order = i % 2 ? ['xdp-bench', 'xdp-shield'] : ['xdp-shield', 'xdp-bench'];
    for (const who of order) {
      if (who === 'xdp-shield') {
        // its lists and rate limits: the flood's single source far over its packet rate
        using shield = await XdpShield.open(recv, { ...lists(), synRate: 1000, ppsRate: 10000, mode: 'native', pinDir: `/sys/fs/bpf/tsbpf-bench-${id}` });
        const dropped = (): number => DROP_ACTIONS.reduce((n, a) => n + shield.actions()[a].packets, 0);
        const before = dropped();
        const secs = flood(gp, frame);
        if (i > 0) {
          ours.push((dropped() - before) / secs);
          offered.ours.push(PACKETS / secs);
        }
        const a = shield.actions();
        dropAction = DROP_ACTIONS.filter((x) => a[x].packets > 0).join(', ');
      } else {
        const x = xdpBenchDrop(recv, xb);
        try {
          const before = x.processed();
          const secs = flood(gp, frame);
          if (i > 0) {
            ref.push((x.processed() - before) / secs);
            offered.reference.push(PACKETS / secs);
          }
        } finally {
          x.close();
        }
      }
    }
  }
  const ratios = ours.map((x, k) => x / ref[k]!);
  report({
    name: 'xdp-drop',
    ours: Math.round(median(ours)),
    reference: Math.round(median(ref)),
    unit: 'packets/s',
    better: 'higher',
    referenceName: "xdp-bench drop's program (xdp-tools 1.3.1, xdp_basic_prog)",
    target: 0.9,
    roundRatios: ratios,
    packetsPerRun: PACKETS,
    runs: RUNS,
    loadAverageAtStart: loadAvg,
    shield: { blockRules: 64, allowRules: 16, synRate: 1000, ppsRate: 10000, droppedBy: dropAction },
    generator: 'BPF_PROG_TEST_RUN live frames (XDP_REDIRECT into a veth)',
    xdpMode: 'native (veth)',
    napi: 'threaded (receiver on its own CPU thread)',
    frameBytes: frame.length,
    oursPps: spread(ours),
    referencePps: spread(ref),
    offeredOurs: Math.round(median(offered.ours)),
    offeredReference: Math.round(median(offered.reference)),
  });
} finally {
  try {
    sh('ip', ['link', 'del', gen]);
  } catch {
    // already gone
  }
}
