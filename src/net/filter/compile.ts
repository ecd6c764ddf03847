// compileFilter: a tcpdump filter expression → an eBPF socket filter, as the loader takes it (a
// CollectionSpec of one program), and the steps between.
import type { Instruction } from '../../isa/instruction.js';
import { collectionSpec, programSpec } from '../../object/compiled.js';
import type { CollectionSpec } from '../../object/spec.js';
import type { Expr } from './ast.js';
import { codegen, DEFAULT_SNAPLEN } from './codegen.js';
import type { Pred } from './ir.js';
import { SocketFilter } from '../../vm/socket-filter.js';
import type { EngineName } from '../../vm/vm.js';
import type { LinkKind } from './link.js';
import { lower } from './lower.js';
import { parseFilter } from './parser.js';

export interface CompileOptions {
  /** bytes kept of an accepted packet (the program's return value); default 262144 */
  snaplen?: number;
  /** for a live AF_PACKET socket: VLAN tags may sit in skb metadata, directions are known */
  live?: boolean;
  /** the link layer of the packets (a file's link type); default Ethernet */
  link?: LinkKind;
}

export interface CompiledFilter {
  expression: string;
  /** undefined for the empty expression (accept everything) */
  ast: Expr | undefined;
  pred: Pred;
  /** the BPF_PROG_TYPE_SOCKET_FILTER program */
  insns: Instruction[];
  /** the program as the loader (Collection.fromSpec) takes it: FILTER_PROGRAM, SEC("socket") */
  spec: CollectionSpec;
  snaplen: number;
  live: boolean;
  link: LinkKind;
}

/** Compile; throws FilterSyntaxError (with column and caret) for a bad expression. */
export function compileFilter(expression: string, o: CompileOptions = {}): CompiledFilter {
  const ast = parseFilter(expression);
  const live = o.live ?? false;
  const link = o.link ?? 'ether';
  if (live && link !== 'ether') throw new Error('compileFilter: live captures are Ethernet');
  const { pred, vars } = lower(ast, expression, { live, link });
  const snaplen = o.snaplen ?? DEFAULT_SNAPLEN;
  const insns = codegen(pred, { snaplen, vars });
  const spec = collectionSpec('capture', [programSpec({ name: FILTER_PROGRAM, section: 'socket', instructions: insns })], []);
  return { expression, ast, pred, insns, spec, snaplen, live, link };
}

/** The filter program's name (what `bpftool prog` shows of a capture). */
export const FILTER_PROGRAM = 'tsbpf_capture';

/**
 * The compiled program on tsbpf's VM (verified, then run by its JIT), for packets from a file: one
 * run() filters a batch of packets read into its buffer (vm/socket-filter.ts).
 */
export function fileFilter(f: CompiledFilter, o: { engine?: EngineName } = {}): SocketFilter {
  if (f.live) throw new Error('fileFilter: compile without `live` to filter packets from a file');
  return SocketFilter.load(f.insns, { engine: o.engine, name: FILTER_PROGRAM });
}

/**
 * A filter over packet bytes, one packet at a time, on the VM: the verdict on bytes[start, start +
 * caplen) of a packet `wirelen` long on the wire (bytes to keep, 0: drop).
 */
export type PacketFilter = (bytes: Uint8Array, start: number, caplen: number, wirelen: number) => number;

export function packetFilter(f: CompiledFilter, o: { engine?: EngineName } = {}): PacketFilter {
  const vm = fileFilter(f, o);
  return (bytes, start, caplen, wirelen) => vm.verdict(bytes, start, caplen, wirelen);
}
