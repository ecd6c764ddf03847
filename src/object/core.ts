// CO-RE for a whole object: every program's relocations, resolved against a target BTF (the running
// kernel's) and patched into that program's linked instructions, as libbpf does before loading. An
// unresolvable relocation poisons its instruction (`call 0xbad2310`); the reason, naming the type and
// field, is recorded so the loader can turn the verifier's "invalid func unknown#195896080" into it.
// Resolution and the per-instruction patch rules live in src/btf (core.ts, core-patch.ts).
import type { Btf } from '../btf/btf.js';
import { resolveCoreRelo, coreReloKindName, type CoreResult } from '../btf/core.js';
import { applyCoreRelo, CORE_POISON_IMM } from '../btf/core-patch.js';
import { BtfError } from '../btf/error.js';
import { ObjectError, type CollectionSpec, type ProgramSpec } from './spec.js';

/** The imm of a poisoned instruction: 0xbad2310, "bad relo". */
export const POISON_IMM = CORE_POISON_IMM;

/** The verifier's complaint when it reaches a poisoned instruction. */
export const POISON_VERIFIER_MESSAGE = `invalid func unknown#${CORE_POISON_IMM}`;

/** Each program's CO-RE results, by program name, in the order of its relocations. */
export type CoreResults = Map<string, CoreResult[]>;

/**
 * Apply every program's CO-RE relocations against `target`, in place (as libbpf patches the object
 * before load): instructions are patched and `poisoned` filled. Apply once per parsed spec; to
 * relocate for several targets, parse again. Returns the spec. Throws ObjectError where libbpf
 * refuses the object (a relocation that does not fit its instruction, ambiguous candidates,
 * malformed records); the spec is then left unchanged.
 */
export function applyCoRe(spec: CollectionSpec, target: Btf): CollectionSpec {
  return applyCoReResults(spec, resolveCoRe(spec, target));
}

/** Resolve every program's CO-RE relocations against `target` without patching anything (what a cache keeps). */
export function resolveCoRe(spec: CollectionSpec, target: Btf): CoreResults {
  const out: CoreResults = new Map();
  for (const p of spec.programs) {
    if (!p.coreRelos.length) continue;
    if (!spec.btf) throw new ObjectError(`program '${p.name}' has CO-RE relocations but the object has no BTF`);
    out.set(p.name, p.coreRelos.map((relo, n) => reloContext(p, n, () => resolveCoreRelo(spec.btf!, relo, target))));
  }
  return out;
}

/**
 * Patch the programs with results from resolveCoRe (of this object, maybe another process's: see
 * src/kernel/core-cache.ts). Throws ObjectError, spec unchanged, if a result does not fit.
 */
export function applyCoReResults(spec: CollectionSpec, results: CoreResults): CollectionSpec {
  const relocated = spec.programs.map((p) => {
    if (!p.coreRelos.length) return p;
    const res = results.get(p.name);
    if (!res || res.length !== p.coreRelos.length) throw new ObjectError(`program '${p.name}': ${res?.length ?? 0} CO-RE results for ${p.coreRelos.length} relocations`);
    const insns = p.instructions.map((i) => ({ ...i }));
    const poisoned = [...p.poisoned];
    p.coreRelos.forEach((relo, n) => {
      const patch = reloContext(p, n, () => applyCoreRelo(insns, relo.insnOff, res[n]!));
      if (patch.action === 'poisoned') poisoned.push({ slot: relo.insnOff, reason: patch.detail });
    });
    return { instructions: insns, poisoned };
  });
  relocated.forEach((r, i) => {
    const p = spec.programs[i]!;
    p.instructions = r.instructions;
    p.poisoned = r.poisoned;
  });
  return spec;
}

function reloContext<T>(p: ProgramSpec, n: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    const relo = p.coreRelos[n]!;
    throw new ObjectError(`program '${p.name}': CO-RE relocation #${n} (${coreReloKindName(relo.kind)}) at instruction ${relo.insnOff}: ${e.message}`, { cause: e });
  }
}

/** The recorded reason for a poisoned slot, for turning the verifier's message into a useful one. */
export function poisonReason(p: ProgramSpec, slot: number): string | undefined {
  return p.poisoned.find((x) => x.slot === slot)?.reason;
}
