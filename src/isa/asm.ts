// Assembler for the syntaxes the disassembler prints: llvm-objdump's (`r1 += 0x4`, `if r1 > r2 goto +3`,
// `r1 = 0x1122 ll`, `lock *(u64 *)(r1 + 0x0) += r2`) and the kernel's verifier-log one (`(b7) r0 = 0`,
// `call bpf_map_lookup_elem#1`, `goto pc+3`, `r1 = map[id:3]`), mixed freely, one instruction per line.
// Also: labels (`name:`, llvm-objdump's `0000000000000070 <name>:`, bpftool's `int name(void * ctx):`), `goto name`, `call name`
// (helper by name, else a local function label), `r1 = map[NAME] ll` / `r1 = map[NAME][0] + 8 ll`
// map references returned as relocations, slot-number prefixes (`  12:`) and llvm-objdump's raw
// bytes column which are ignored, and
// comments starting with `;`, `//` or `#` (a `#` only at the start or after a blank, since the
// kernel's `call name#id` uses it). An `(xx)` opcode prefix is checked against the encoding.
import { lex, Line, LineError } from './asm-lexer.js';
import { statement } from './asm-statements.js';
import { insnItem, labelItem, LabelError, resolveLabels, type CodeItem, type Label } from './code.js';
import { BPF_CALL, BPF_JMP } from './opcodes.js';
import { encodeForm, FormError } from './form.js';
import type { Instruction } from './instruction.js';
import type { MapReference } from './relocation.js';

export type { MapReference } from './relocation.js';

export interface AsmResult {
  insns: Instruction[];
  relocations: MapReference[];
  /** label -> slot */
  labels: Map<string, number>;
}

/** A syntax error at a 1-based line and column. */
export class AsmError extends Error {
  constructor(readonly line: number, readonly col: number, readonly detail: string) {
    super(`line ${line}:${col}: ${detail}`);
  }
}

/** Assemble text into instruction slots, map relocations and label positions. Throws AsmError. */
export function assemble(text: string): AsmResult {
  // labelled code (code.ts), each slot's span its line and the column of its label reference
  const code: CodeItem[] = [];
  let slots = 0;
  const relocations: MapReference[] = [];
  const labels = new Map<string, number>();
  const labelLines = new Map<string, number>();
  const ids = new Map<string, Label>();
  const labelOf = (name: string): Label => {
    let id = ids.get(name);
    if (id === undefined) ids.set(name, (id = ids.size));
    return id;
  };
  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    try {
      const line = stripComment(raw).replace(/\s+<[^<>\s]*>\s*$/, ''); // llvm-objdump's ` <target>` annotation
      let p = line.search(/\S/);
      if (p < 0) return;
      const define = (name: string, col: number): void => {
        if (labels.has(name)) throw new LineError(col, `label '${name}' is already defined on line ${labelLines.get(name)}`);
        labels.set(name, slots);
        labelLines.set(name, lineNo);
        code.push(labelItem(labelOf(name)));
      };
      const tail = line.trimEnd();
      const header = tail.endsWith('>:') ? /^([0-9a-fA-F]+\s+)<([^<>]+)>:$/.exec(tail.slice(p)) : null;
      if (header) {
        define(header[2]!, p + header[1]!.length + 2);
        return;
      }
      // bpftool's function headers from BTF: `long twice(long a, void * b):` labels `twice`
      const proto = tail.endsWith('):') ? /^([A-Za-z_][\w\s*]*?[\s*])([A-Za-z_]\w*)\s*\([^()]*\):$/.exec(tail.slice(p)) : null;
      if (proto) {
        define(proto[2]!, p + proto[1]!.length + 1);
        return;
      }
      for (;;) {
        const m = /^(?:(\d+)|([A-Za-z_.$][\w.$]*)):/.exec(line.slice(p));
        if (!m) break;
        if (m[2] !== undefined) define(m[2], p + 1);
        p += m[0].length;
        p += line.slice(p).search(/\S|$/);
      }
      // llvm-objdump's raw bytes column (8 or 16 hex bytes, then a tab): the instruction text follows
      const bytesColumn = /^[0-9a-f]{2}(?: [0-9a-f]{2}){7}(?:(?: [0-9a-f]{2}){8})?\t/.exec(line.slice(p));
      if (bytesColumn) p += bytesColumn[0].length;
      let expectCode: { code: number; col: number } | undefined;
      const prefix = /^\((?:0x)?([0-9a-fA-F]{2})\)/.exec(line.slice(p));
      if (prefix) {
        expectCode = { code: parseInt(prefix[1]!, 16), col: p + 1 };
        p += prefix[0].length;
      }
      const toks = lex(line, p);
      if (!toks.length) {
        if (expectCode) throw new LineError(expectCode.col, 'expected an instruction after the opcode');
        return;
      }
      const parsed = statement(new Line(toks, line.trimEnd().length + 1), expectCode?.code);
      const slot = slots;
      let encoded: Instruction[];
      try {
        encoded = encodeForm(parsed.form);
      } catch (e) {
        if (e instanceof FormError) throw new LineError(toks[0]!.col, e.message);
        throw e;
      }
      if (expectCode && encoded[0]!.code !== expectCode.code) {
        const hex = (c: number): string => c.toString(16).padStart(2, '0');
        throw new LineError(expectCode.col, `opcode (${hex(expectCode.code)}) does not match the instruction, which encodes as (${hex(encoded[0]!.code)})`);
      }
      const target = parsed.label ? labelOf(parsed.label.name) : -1;
      const span = { line: lineNo, col: parsed.label?.col ?? toks[0]!.col, start: 0, end: 0 };
      encoded.forEach((i, k) => code.push(insnItem(i, k === 0 ? target : -1, span)));
      slots += encoded.length;
      if (parsed.map) relocations.push({ slot, map: parsed.map.name, kind: parsed.map.kind, offset: parsed.map.offset });
    } catch (e) {
      if (e instanceof LineError) throw new AsmError(lineNo, e.col, e.message);
      throw e;
    }
  });
  const names = [...ids.keys()];
  try {
    return { insns: resolveLabels(code, { longJumps: false, labelAtEnd: true, labelName: (l) => names[l]! }).insns, relocations, labels };
  } catch (e) {
    if (!(e instanceof LabelError)) throw e;
    const name = names[e.item.target]!;
    const { line, col } = e.item.span!;
    if (e.why === 'far') throw new AsmError(line, col, `'${name}' is ${e.delta} slots away, beyond a 16-bit jump offset (use gotol)`);
    throw new AsmError(line, col, e.item.insn.code === (BPF_JMP | BPF_CALL) ? `'${name}' is neither a helper nor a label` : `undefined label '${name}'`);
  }
}

function stripComment(line: string): string {
  let cut = line.length;
  const semi = line.indexOf(';');
  if (semi >= 0) cut = semi;
  const slash = line.indexOf('//');
  if (slash >= 0 && slash < cut) cut = slash;
  const hash = /(^|\s)#/.exec(line);
  if (hash && hash.index + hash[1]!.length < cut) cut = hash.index + hash[1]!.length;
  return line.slice(0, cut);
}
