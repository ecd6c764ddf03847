// compileFilter: a tcpdump filter expression → eBPF socket-filter instructions (and the steps between).
import type { Instruction } from '../../isa/instruction.js';
import type { Expr } from './ast.js';
import { codegen, DEFAULT_SNAPLEN } from './codegen.js';
import type { Pred } from './ir.js';
import { compileToJs, type PacketFilter } from './jsfilter.js';
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
  return { expression, ast, pred, insns: codegen(pred, { snaplen, vars }), snaplen, live, link };
}

/** The compiled program as a user-space function over packet bytes (for files; see jsfilter.ts). */
export function packetFilter(f: CompiledFilter): PacketFilter {
  if (f.live) throw new Error('packetFilter: compile without `live` to filter packets from a file');
  return compileToJs(f.insns);
}
