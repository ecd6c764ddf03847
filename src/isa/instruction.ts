// One eBPF instruction slot (struct bpf_insn) and its byte encoding. A program is an array of slots;
// a 64-bit immediate load (lddw) occupies two, the second holding the upper 32 bits in `imm`, so that
// slot indices, jump offsets and ELF relocation offsets (bytes / 8) all agree.
import { BPF_DW, BPF_IMM, BPF_INSN_SIZE, BPF_LD } from './opcodes.js';

export interface Instruction {
  /** opcode byte */
  code: number;
  /** destination register, 0-10 */
  dst: number;
  /** source register, 0-10 (or a pseudo value for lddw and call) */
  src: number;
  /** signed 16-bit offset */
  off: number;
  /** signed 32-bit immediate */
  imm: number;
}

export const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Instruction => ({ code, dst, src, off, imm });

/** The opcode of lddw, the only 16-byte instruction. */
export const LDDW = BPF_LD | BPF_IMM | BPF_DW;
export const isWide = (i: Instruction): boolean => i.code === LDDW;

/** The 64-bit immediate of lddw at `insns[i]` (unsigned). */
export function imm64(insns: readonly Instruction[], i: number): bigint {
  const lo = BigInt(insns[i]!.imm >>> 0);
  const hi = BigInt((insns[i + 1]?.imm ?? 0) >>> 0);
  return (hi << 32n) | lo;
}

/** Split a 64-bit value into the (lo, hi) signed 32-bit immediates of an lddw pair. */
export function splitImm64(value: bigint): [lo: number, hi: number] {
  const v = BigInt.asUintN(64, value);
  return [Number(BigInt.asIntN(32, v & 0xffffffffn)), Number(BigInt.asIntN(32, v >> 32n))];
}

export class InstructionDecodeError extends Error {}

/** Decode little-endian struct bpf_insn slots. Throws if the length is not a multiple of 8. */
export function decode(bytes: Uint8Array): Instruction[] {
  if (bytes.length % BPF_INSN_SIZE !== 0) {
    throw new InstructionDecodeError(`instruction bytes: length ${bytes.length} is not a multiple of ${BPF_INSN_SIZE}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Instruction[] = new Array(bytes.length / BPF_INSN_SIZE);
  for (let i = 0, p = 0; p < bytes.length; i++, p += BPF_INSN_SIZE) {
    const regs = bytes[p + 1]!;
    out[i] = { code: bytes[p]!, dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(p + 2, true), imm: view.getInt32(p + 4, true) };
  }
  return out;
}

/** Encode slots to the little-endian struct bpf_insn layout the kernel takes. */
export function encode(insns: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * BPF_INSN_SIZE);
  const view = new DataView(bytes.buffer);
  insns.forEach((i, n) => {
    const p = n * BPF_INSN_SIZE;
    bytes[p] = i.code;
    bytes[p + 1] = ((i.src & 0x0f) << 4) | (i.dst & 0x0f);
    view.setInt16(p + 2, i.off, true);
    view.setInt32(p + 4, i.imm | 0, true);
  });
  return bytes;
}
