// A tiny program builder for the fuzzer's generators: instructions with named jump targets and
// local-call targets, resolved into offsets once the whole program is laid out.
import * as O from '../../../src/isa/opcodes.js';
import { insn, type Instruction } from '../../../src/isa/instruction.js';

interface Slot {
  i: Instruction;
  /** A label this slot jumps to (jump offset) or calls (imm of a local call). */
  to?: string;
}

export class Builder {
  private readonly slots: Slot[] = [];
  private readonly labels = new Map<string, number>();
  private n = 0;

  get length(): number {
    return this.slots.length;
  }

  /** A label name not used before. */
  fresh(): string {
    return `L${this.n++}`;
  }

  emit(...is: Instruction[]): this {
    for (const i of is) this.slots.push({ i: { ...i } });
    return this;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} placed twice`);
    this.labels.set(name, this.slots.length);
    return this;
  }

  /** A jump (conditional or not) whose target is a label. */
  jump(i: Instruction, to: string): this {
    this.slots.push({ i: { ...i }, to });
    return this;
  }

  callLocal(to: string): this {
    this.slots.push({ i: insn(O.BPF_JMP | O.BPF_CALL, 0, O.BPF_PSEUDO_CALL, 0, 0), to });
    return this;
  }

  build(): Instruction[] {
    return this.slots.map(({ i, to }, pc) => {
      if (to === undefined) return i;
      const t = this.labels.get(to);
      if (t === undefined) throw new Error(`no label ${to}`);
      const rel = t - (pc + 1);
      if (i.code === (O.BPF_JMP | O.BPF_CALL)) return { ...i, imm: rel };
      if (i.code === (O.BPF_JMP32 | O.BPF_JA)) return { ...i, imm: rel };
      return { ...i, off: rel };
    });
  }
}

