// compileFilter: a tcpdump filter expression → eBPF socket-filter instructions (and the steps between).
import type { Instruction } from '../../isa/instruction.js';
import type { Expr } from './ast.js';
import { codegen, DEFAULT_SNAPLEN } from './codegen.js';
import type { Pred } from './ir.js';
import { compileToJs, type PacketFilter } from './jsfilter.js';
import { lower } from './lower.js';
import { parseFilter } from './parser.js';

export interface CompileOptions {
  /** bytes kept of an accepted packet (the program's return value); default 262144 */
  snaplen?: number;
  /** for a live AF_PACKET socket: VLAN tags may sit in skb metadata (see codegen.ts) */
  live?: boolean;
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
}

/** Compile; throws FilterSyntaxError (with column and caret) for a bad expression. */
export function compileFilter(expression: string, o: CompileOptions = {}): CompiledFilter {
  const ast = parseFilter(expression);
  const live = o.live ?? false;
  const pred = lower(ast, expression, { live });
  const snaplen = o.snaplen ?? DEFAULT_SNAPLEN;
  return { expression, ast, pred, insns: codegen(pred, { snaplen, live }), snaplen, live };
}

/** The compiled program as a user-space function over packet bytes (for files; see jsfilter.ts). */
export function packetFilter(f: CompiledFilter): PacketFilter {
  if (f.live) throw new Error('packetFilter: compile without `live` to filter packets from a file');
  return compileToJs(f.insns);
}
