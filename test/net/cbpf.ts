// A classic BPF interpreter with libpcap's semantics (bpf_filter.c), for programs printed by
// `tcpdump -ddd`: the differential test runs tcpdump's own program on a packet where tsbpf and
// tcpdump disagree, to see whether that program stopped at a load past the captured bytes.

export interface CbpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** `tcpdump -ddd` output: a count, then one `code jt jf k` line per instruction. */
export function parseDdd(text: string): CbpfInsn[] {
  const lines = text.trim().split('\n');
  const n = Number(lines[0]);
  const prog = lines.slice(1, n + 1).map((l) => {
    const [code, jt, jf, k] = l.trim().split(/\s+/).map(Number) as [number, number, number, number];
    return { code, jt, jf, k: k >>> 0 };
  });
  if (prog.length !== n) throw new Error(`tcpdump -ddd: expected ${n} instructions, got ${prog.length}`);
  return prog;
}

export interface CbpfResult {
  /** the program's return value (0: drop) */
  ret: number;
  /** it returned 0 because a load ran past the captured bytes */
  oob: boolean;
}

const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;

export function runCbpf(prog: readonly CbpfInsn[], p: Uint8Array, wirelen: number): CbpfResult {
  const buflen = p.length;
  let A = 0;
  let X = 0;
  const mem = new Uint32Array(16);
  const read = (off: number, size: number): number | undefined => {
    if (off > buflen || size > buflen - off) return undefined;
    if (size === 4) return ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0;
    if (size === 2) return (p[off]! << 8) | p[off + 1]!;
    return p[off]!;
  };
  const oob: CbpfResult = { ret: 0, oob: true };
  // a backward jump (libpcap's protochain loops) still ends: each pass moves on in the packet
  for (let pc = 0, steps = 0; steps < 1_000_000; steps++) {
    const i = prog[pc];
    if (!i) throw new Error(`cbpf: fell off the program at ${pc}`);
    pc++;
    const cls = i.code & 0x07;
    const size = (i.code & 0x18) === W ? 4 : (i.code & 0x18) === H ? 2 : (i.code & 0x18) === B ? 1 : 0;
    const mode = i.code & 0xe0;
    switch (cls) {
      case LD:
      case LDX: {
        let v: number | undefined;
        if (mode === IMM) v = i.k;
        else if (mode === LEN) v = wirelen;
        else if (mode === MEM) v = mem[i.k & 15]!;
        else if (mode === ABS) v = read(i.k, size);
        else if (mode === IND) v = X > buflen || i.k > buflen - X ? undefined : read(X + i.k, size);
        else if (mode === MSH && cls === LDX) v = i.k >= buflen ? undefined : 4 * (p[i.k]! & 0xf);
        else throw new Error(`cbpf: load mode 0x${i.code.toString(16)}`);
        if (v === undefined) return oob;
        if (cls === LD) A = v >>> 0;
        else X = v >>> 0;
        break;
      }
      case ST:
        mem[i.k & 15] = A;
        break;
      case STX:
        mem[i.k & 15] = X;
        break;
      case ALU: {
        const src = (i.code & 0x08) ? X : i.k;
        switch (i.code & 0xf0) {
          case 0x00: A = (A + src) >>> 0; break;
          case 0x10: A = (A - src) >>> 0; break;
          case 0x20: A = Math.imul(A, src) >>> 0; break;
          case 0x30: if (src === 0) return { ret: 0, oob: false }; A = Math.floor(A / src) >>> 0; break;
          case 0x40: A = (A | src) >>> 0; break;
          case 0x50: A = (A & src) >>> 0; break;
          case 0x60: A = (A << (src & 31)) >>> 0; break;
          case 0x70: A = A >>> (src & 31); break;
          case 0x80: A = -A >>> 0; break;
          case 0x90: if (src === 0) return { ret: 0, oob: false }; A = A % src; break;
          case 0xa0: A = (A ^ src) >>> 0; break;
          default: throw new Error(`cbpf: alu 0x${i.code.toString(16)}`);
        }
        break;
      }
      case JMP: {
        const src = (i.code & 0x08) ? X : i.k;
        const op = i.code & 0xf0;
        if (op === 0x00) {
          pc = (pc + i.k) >>> 0;
          break;
        }
        const taken = op === 0x10 ? A === src : op === 0x20 ? A > src : op === 0x30 ? A >= src : (A & src) !== 0;
        pc += taken ? i.jt : i.jf;
        break;
      }
      case RET:
        return { ret: (i.code & 0x18) === 0x10 ? A : i.k, oob: false };
      case MISC:
        if ((i.code & 0xf8) === 0x00) X = A;
        else A = X;
        break;
    }
  }
  throw new Error('cbpf: the program runs too long');
}
