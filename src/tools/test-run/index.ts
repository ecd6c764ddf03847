// test-run: BPF_PROG_TEST_RUN of one program of an object over every packet of a pcap file — what
// an XDP, tc or socket-filter program decides for recorded traffic, without attaching it anywhere;
// or the same on tsbpf's VM (no kernel, no privileges), with the kernel's verdicts.
//
//   const r = testRunPcap('shield.bpf.o', 'xdp_shield', pcapBytes);   // { vm: true } for the VM
//   for (const p of r.packets) console.log(p.index, p.verdict);
import { Collection } from '../../kernel/collection.js';
import type { Program } from '../../kernel/program.js';
import { readPcap, LINKTYPE_ETHERNET } from '../../net/pcap.js';
import { ProgramType } from '../../uapi/bpf.js';
import { Vm } from '../../vm/vm.js';

const XDP_VERDICTS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];
const TC_VERDICTS = ['TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED', 'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP'];
const ETH_HLEN = 14;

/** Program types BPF_PROG_TEST_RUN runs on packets. */
export const PACKET_PROGRAM_TYPES = new Set([
  ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.SOCKET_FILTER, ProgramType.CGROUP_SKB,
  ProgramType.LWT_IN, ProgramType.LWT_OUT, ProgramType.LWT_XMIT, ProgramType.FLOW_DISSECTOR,
]);

/** The name of a program's return value: XDP_*, TC_ACT_*, or what a socket filter keeps. */
export function verdictName(type: ProgramType, retval: number): string {
  const s = retval | 0;
  switch (type) {
    case ProgramType.XDP:
      return XDP_VERDICTS[s] ?? `XDP_${retval}`;
    case ProgramType.SCHED_CLS:
    case ProgramType.SCHED_ACT:
      return s === -1 ? 'TC_ACT_UNSPEC' : (TC_VERDICTS[s] ?? `TC_ACT_${s}`);
    case ProgramType.SOCKET_FILTER:
      return s === 0 ? 'drop' : `keep ${retval >>> 0} bytes`;
    case ProgramType.CGROUP_SKB:
      return s & 1 ? 'allow' : 'deny';
    default:
      return String(s);
  }
}

export interface PacketVerdict {
  /** record number in the pcap, from 1 (as tcpdump and Wireshark count) */
  index: number;
  length: number;
  retval: number;
  verdict: string;
  /** ns per run (average over repeat) */
  duration: number;
  /** the packet as the program left it, when it changed it */
  modified?: Uint8Array;
  /** why the kernel refused to run this packet (e.g. shorter than an Ethernet header) */
  error?: string;
}

export interface TestRunReport {
  program: string;
  type: string;
  packets: PacketVerdict[];
  /** how many packets got each verdict */
  counts: Record<string, number>;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A program that runs on a packet: in the kernel (BPF_PROG_TEST_RUN) or on the VM. */
export interface PacketRunner {
  name: string;
  type: ProgramType;
  /** the program's return value, ns per run, and the packet as it left it */
  run(packet: Uint8Array, repeat: number): { retval: number; duration: number; data: Uint8Array };
}

const ETH_P_IP = 0x0800;
const IPV4_HEADER = 20;

/** A loaded program, run by BPF_PROG_TEST_RUN. */
export function kernelRunner(prog: Program): PacketRunner {
  return { name: prog.name, type: prog.type, run: (data, repeat) => prog.testRun(data, { repeat }) };
}

/**
 * A program of a VM, with what BPF_PROG_TEST_RUN refuses refused too, so that verdicts are the
 * kernel's: an skb program (not XDP) never runs on an IPv4 packet shorter than its header (EINVAL).
 */
export function vmRunner(vm: Vm, name: string): PacketRunner {
  const prog = vm.program(name);
  const skb = prog.type !== ProgramType.XDP;
  return {
    name: prog.name,
    type: prog.type,
    run: (data, repeat) => {
      if (skb && ((data[12]! << 8) | data[13]!) === ETH_P_IP && data.length < ETH_HLEN + IPV4_HEADER) {
        throw new Error(`an IPv4 packet of ${data.length} bytes is shorter than its header: BPF_PROG_TEST_RUN refuses it (EINVAL)`);
      }
      const t = performance.now();
      const r = vm.run(name, data, { repeat });
      return { retval: Number(r.r0 & 0xffffffffn), duration: Math.round(((performance.now() - t) * 1e6) / repeat), data: r.packet ?? data };
    },
  };
}

/** Run `prog` over every record of a pcap (bytes). */
export function runPackets(prog: PacketRunner, pcap: Uint8Array, o: { repeat?: number } = {}): TestRunReport {
  if (!PACKET_PROGRAM_TYPES.has(prog.type)) {
    throw new Error(`test-run: program ${prog.name} is ${ProgramType[prog.type] ?? prog.type}, not a packet program (XDP, tc, socket filter, cgroup skb)`);
  }
  const repeat = o.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`test-run: invalid repeat ${repeat}`);
  const { header, records } = readPcap(pcap);
  if (header.linktype !== LINKTYPE_ETHERNET) throw new Error(`test-run: the pcap's link type is ${header.linktype}; only Ethernet (1) frames can be run`);
  const packets: PacketVerdict[] = [];
  const counts: Record<string, number> = {};
  records.forEach((r, i) => {
    const p: PacketVerdict = { index: i + 1, length: r.data.length, retval: 0, verdict: '', duration: 0 };
    if (r.data.length < ETH_HLEN) {
      p.verdict = 'error';
      p.error = `packet of ${r.data.length} bytes is shorter than an Ethernet header`;
    } else {
      try {
        const res = prog.run(r.data, repeat);
        p.retval = res.retval;
        p.verdict = verdictName(prog.type, res.retval);
        p.duration = res.duration;
        if (!equal(res.data, r.data)) p.modified = res.data;
      } catch (e) {
        p.verdict = 'error';
        p.error = (e as Error).message;
      }
    }
    counts[p.verdict] = (counts[p.verdict] ?? 0) + 1;
    packets.push(p);
  });
  return { program: prog.name, type: ProgramType[prog.type] ?? String(prog.type), packets, counts };
}

/**
 * Load program `name` from an object file and run it over a pcap, in the kernel or (vm) on tsbpf's
 * VM, verified by its verifier and run by its JIT. Everything loaded is closed after.
 */
export function testRunPcap(object: string | Uint8Array, name: string, pcap: Uint8Array, o: { repeat?: number; constants?: Record<string, number | bigint | boolean | string>; vm?: boolean } = {}): TestRunReport {
  if (o.vm) {
    if (o.constants) throw new Error('test-run: constants are set by the kernel loader; the VM runs the object as built');
    if (typeof object === 'string') throw new Error('test-run: give the VM the object\'s bytes');
    const vm = Vm.loadSync(object, { engine: 'jit', verify: false });
    vm.admit(name);
    return runPackets(vmRunner(vm, name), pcap, o);
  }
  const coll = Collection.load(object, { programs: [name], constants: o.constants });
  try {
    return runPackets(kernelRunner(coll.program(name)), pcap, o);
  } finally {
    coll.close();
  }
}
