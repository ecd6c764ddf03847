// Kernel symbols (`extern ... __ksym`): point every reference at the target kernel's BTF id, as
// libbpf does at load. Typed variables and kfuncs must exist in the target with a compatible type;
// an unresolved __weak one becomes 0 (its address check is then false) and its calls are poisoned
// so that, being dead code behind that check, they never reach the verifier as live calls.
import type { Btf } from '../btf/btf.js';
import { coreTypesAreCompat } from '../btf/core.js';
import { BtfKind } from '../btf/types.js';
import { BPF_CALL, BPF_JMP } from '../isa/opcodes.js';
import { ObjectError, type CollectionSpec } from './spec.js';

/** libbpf's POISON_CALL_KFUNC_BASE: a call to an unresolved weak kfunc becomes helper #(base + extern index). */
export const POISON_CALL_KFUNC_BASE = 2002000000;

export interface KsymOptions {
  /** address of a kernel symbol (from /proc/kallsyms), for typeless `extern const void x __ksym` */
  kallsyms?: (name: string) => bigint | undefined;
}

/**
 * Resolve every program's ksym references against `target` (the kernel's BTF), in place: lddw of a
 * typed variable or kfunc gets imm = the kernel BTF id (src BPF_PSEUDO_BTF_ID, next slot 0 = vmlinux);
 * kfunc calls get imm = id, off = 0. Typeless ksyms become their kallsyms address. Throws ObjectError
 * for a missing non-weak symbol or a type that does not match the kernel's.
 */
export function resolveKsyms(spec: CollectionSpec, target: Btf, opts: KsymOptions = {}): CollectionSpec {
  const ksyms = spec.externs.filter((e) => e.kind === 'ksym');
  for (const p of spec.programs) {
    for (const ref of p.ksymRefs) {
      const ext = ksyms.find((e) => e.name === ref.name);
      const insn = p.instructions[ref.slot];
      const hi = p.instructions[ref.slot + 1];
      if (!ext || !insn) throw new ObjectError(`program '${p.name}': ksym reference '${ref.name}' at ${ref.slot} has no extern`);
      const where = `program '${p.name}': extern '${ref.name}'`;
      const id = kernelId(spec, target, ext.btfId, ext.func, ref.name, where);
      const isCall = insn.code === (BPF_JMP | BPF_CALL);
      if (id === 'typeless') {
        const addr = opts.kallsyms?.(ref.name);
        if (addr === undefined && !ext.weak) throw new ObjectError(`${where}: typeless ksym not found in kallsyms`);
        insn.src = 0;
        insn.imm = Number(BigInt.asIntN(32, addr ?? 0n));
        if (hi) hi.imm = Number(BigInt.asIntN(32, (addr ?? 0n) >> 32n));
        continue;
      }
      if (id === undefined) {
        if (!ext.weak) throw new ObjectError(`${where}: not found in the kernel's BTF (declare it __weak to make it optional)`);
        if (isCall) {
          insn.code = BPF_JMP | BPF_CALL;
          insn.dst = 0;
          insn.src = 0;
          insn.off = 0;
          insn.imm = POISON_CALL_KFUNC_BASE + spec.externs.indexOf(ext);
        } else {
          // `&weak_sym` / `if (weak_kfunc)`: 0 when the kernel lacks it
          insn.src = 0;
          insn.imm = 0;
          if (hi) hi.imm = 0;
        }
        continue;
      }
      insn.imm = id;
      if (isCall) insn.off = 0; // 0: vmlinux BTF (module kfuncs would index fd_array)
      else if (hi) hi.imm = 0; // 0: vmlinux BTF (else a module BTF fd)
    }
  }
  return spec;
}

/** The kernel BTF id for an extern, undefined when absent, 'typeless' for `const void` ksyms. */
function kernelId(spec: CollectionSpec, target: Btf, localId: number, func: boolean, name: string, where: string): number | 'typeless' | undefined {
  const btf = spec.btf;
  if (!btf) throw new ObjectError(`${where}: ksyms need the object's BTF`);
  const local = btf.typeById(localId);
  if (!func && local.kind === BtfKind.VAR && btf.resolve(local.type).kind === BtfKind.UNKN) return 'typeless';
  const kind = func ? BtfKind.FUNC : BtfKind.VAR;
  const cands = target.findAllByName(name, kind);
  if (!cands.length) return undefined;
  const k = cands[0]!;
  // libbpf checks the declaration against the kernel's: variable types, or function prototypes
  if ((local.kind === BtfKind.VAR || local.kind === BtfKind.FUNC) && (k.kind === BtfKind.VAR || k.kind === BtfKind.FUNC)) {
    // compared past const/volatile/typedefs, as libbpf's skip_mods_and_typedefs does
    if (!coreTypesAreCompat(btf, btf.resolveId(local.type), target, target.resolveId(k.type))) {
      throw new ObjectError(`${where}: its declared type does not match the kernel's ([${local.type}] vs kernel [${k.type}])`);
    }
  }
  return k.id;
}
