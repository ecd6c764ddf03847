// xdp-drop: packets per second dropped by xdp-shield (a block rule, native XDP on a veth) vs
// `iptables -t raw -A PREROUTING -j DROP` on the same flood through the same veth.
//
// The flood generator is the kernel's own: BPF_PROG_TEST_RUN in live-frames mode
// (BPF_F_TEST_XDP_LIVE_FRAMES, 5.18+) runs a one-line XDP program that redirects a UDP frame out of
// one end of a veth pair, `repeat` times — millions of frames per second, with no socket or skb on
// the sending side, so what is measured is the receiving side. Frames arrive at the other end as
// XDP frames: with xdp-shield attached they are dropped there, before any skb exists; without XDP
// (GRO on, so the veth has a NAPI context to receive them) the kernel builds an skb and runs the IP
// stack up to the raw table's PREROUTING hook, where iptables drops them. Both ends live in this
// namespace; the iptables rule matches only the veth and is removed afterwards.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Program } from '../src/kernel/program.js';
import { ProgramType } from '../src/uapi/bpf.js';
import { insn } from '../src/isa/instruction.js';
import { BPF_ALU64, BPF_MOV, BPF_K, BPF_JMP, BPF_CALL, BPF_EXIT } from '../src/isa/opcodes.js';
import { progTestRun } from '../src/sys/bpf.js';
import { ether, ipv4, udp, ETH_P_IP, IPPROTO } from '../src/net/craft.js';
import { XdpShield } from '../src/tools/xdp-shield/index.js';
import { median, report } from './report.js';

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

function iptablesCount(): number {
  const out = sh('iptables', ['-t', 'raw', '-L', 'PREROUTING', '-v', '-x', '-n']);
  const line = out.split('\n').find((l) => l.includes(recv) && l.includes('DROP'));
  return Number(line?.trim().split(/\s+/)[0] ?? 0);
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

  // GRO gives the veth the NAPI context that receives XDP frames when no XDP program is attached
  // (the iptables runs); with xdp-shield attached, native XDP sees the frames before GRO.
  sh('ethtool', ['-K', recv, 'gro', 'on']);

  /**
   * Rounds alternate xdp-shield and iptables, so both see the same background load. `threaded`:
   * the receiving veth's NAPI runs in its own kernel thread (as a NIC's receive runs on its own
   * CPU), so the generator floods faster than the receiver can take and what counts is how many
   * packets per second each filter gets through dropping; otherwise the receive work runs inline
   * after each generator batch, on the same CPU, and the generator's cost is in both numbers.
   */
  async function measure(threaded: boolean): Promise<{ ours: number[]; ref: number[]; ratios: number[]; offered: { ours: number[]; reference: number[] } }> {
    writeFileSync(`/sys/class/net/${recv}/threaded`, threaded ? '1' : '0');
    const ours: number[] = [];
    const ref: number[] = [];
    const ratios: number[] = [];
    // frames the generator sent per second (what the receiver could not take is lost in the veth's ring)
    const offered = { ours: [] as number[], reference: [] as number[] };
    for (let i = 0; i <= RUNS; i++) {
      {
        // xdp-shield: native XDP on the receiving veth, a block rule for the flood's source
        using shield = await XdpShield.open(recv, { block: [`${SRC}/32`], mode: 'native', pinDir: `/sys/fs/bpf/tsbpf-bench-${id}` });
        const before = shield.actions().block.packets;
        const secs = flood(gp, frame);
        if (i > 0) {
          ours.push((shield.actions().block.packets - before) / secs);
          offered.ours.push(PACKETS / secs);
        }
      }
      sh('iptables', ['-t', 'raw', '-I', 'PREROUTING', '-i', recv, '-j', 'DROP']);
      try {
        const before = iptablesCount();
        const secs = flood(gp, frame);
        if (i > 0) {
          ref.push((iptablesCount() - before) / secs);
          offered.reference.push(PACKETS / secs);
          ratios.push(ours.at(-1)! / ref.at(-1)!);
        }
      } finally {
        sh('iptables', ['-t', 'raw', '-D', 'PREROUTING', '-i', recv, '-j', 'DROP']);
      }
    }
    return { ours, ref, ratios, offered };
  }

  const { ours, ref, ratios, offered } = await measure(true);
  const inline = await measure(false);
  report({
    name: 'xdp-drop',
    ours: Math.round(median(ours)),
    reference: Math.round(median(ref)),
    unit: 'packets/s',
    better: 'higher',
    referenceName: `iptables -t raw DROP (${sh('iptables', ['-V']).trim()})`,
    target: 3,
    packetsPerRun: PACKETS,
    runs: RUNS,
    generator: 'BPF_PROG_TEST_RUN live frames (XDP_REDIRECT into a veth)',
    xdpMode: 'native (veth)',
    napi: 'threaded (receiver on its own CPU thread)',
    inline: {
      ours: Math.round(median(inline.ours)),
      reference: Math.round(median(inline.ref)),
      ratio: Math.round((median(inline.ours) / median(inline.ref)) * 1000) / 1000,
      note: 'receive work inline after each generator batch on one CPU (generator cost in both)',
    },
    frameBytes: frame.length,
    offeredOurs: Math.round(median(offered.ours)),
    offeredReference: Math.round(median(offered.reference)),
    roundRatios: ratios.map((r) => Math.round(r * 100) / 100),
    oursRuns: ours.map(Math.round),
    referenceRuns: ref.map(Math.round),
  });
} finally {
  try {
    sh('ip', ['link', 'del', gen]);
  } catch {
    // already gone
  }
}
