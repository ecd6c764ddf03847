// The object's BTF as the kernel must receive it, fixed up the way libbpf does before BTF_LOAD:
// clang leaves DATASEC sizes and VAR offsets 0 (the linker would fill them), so they come from the
// ELF sections and symbols; .kconfig externs get their map offsets; .ksyms externs become int-typed
// placeholders (functions keep their FUNC, made global, with named parameters), since the kernel
// refuses extern linkage.
import { BtfBuilder, marshalBtfWithStrings } from '../btf/marshal.js';
import { BtfError } from '../btf/error.js';
import type { Btf } from '../btf/btf.js';
import { BtfFuncLinkage, BtfKind, BtfVarLinkage, BTF_INT_SIGNED, type BtfType } from '../btf/types.js';
import { ObjectError, type CollectionSpec } from './spec.js';

const DUMMY_KSYM = 'dummy_ksym';

/**
 * The .BTF bytes to give BTF_LOAD for this object, with the programs' line-info strings (file names,
 * source lines) in its string section. Marshalling renumbers strings, so the programs' lineInfo
 * fileNameOff/lineOff are rewritten to point into these bytes: load programs with the BTF returned
 * by the latest call. `fixed`: kernelBtf(spec).build() if the caller has it already.
 */
export function btfForKernel(spec: CollectionSpec, fixed: Btf = kernelBtf(spec).build()): Uint8Array {
  const strings = new Set<string>();
  for (const p of spec.programs) for (const l of p.lineInfo) strings.add(l.fileName).add(l.line);
  const { bytes, offsets } = marshalBtfWithStrings(fixed, strings);
  for (const p of spec.programs) {
    for (const l of p.lineInfo) {
      l.fileNameOff = offsets.get(l.fileName)!;
      l.lineOff = offsets.get(l.line)!;
    }
  }
  return bytes;
}

/**
 * A builder holding the object's types fixed up for the kernel: ids are unchanged; placeholder types
 * for .ksyms (an int and a `dummy_ksym` VAR, as libbpf adds) are appended at the end.
 */
export function kernelBtf(spec: CollectionSpec): BtfBuilder {
  const btf = spec.btf;
  if (!btf) throw new ObjectError('object has no BTF');
  const b = BtfBuilder.from(btf);
  const types: BtfType[] = [];
  for (let id = 1; id < b.length; id++) types.push(b.get(id));
  const byId = (id: number): BtfType => {
    try {
      return b.get(id);
    } catch (e) {
      if (e instanceof BtfError) throw new ObjectError(`BTF type id ${id} out of range`);
      throw e;
    }
  };
  const add = (t: Parameters<BtfBuilder['add']>[0]): number => b.add(t);
  let intId = 0;
  let dummyVarId = 0;
  const ksymPlaceholders = () => {
    if (!dummyVarId) {
      intId = types.find((t) => t.kind === BtfKind.INT && t.size === 4 && t.bits === 32)?.id ?? 0;
      if (!intId) intId = add({ kind: BtfKind.INT, name: 'int', size: 4, encoding: BTF_INT_SIGNED, bitOffset: 0, bits: 32 });
      dummyVarId = add({ kind: BtfKind.VAR, name: DUMMY_KSYM, type: intId, linkage: BtfVarLinkage.GLOBAL_ALLOCATED });
    }
  };
  const nameParams = (protoId: number) => {
    const proto = byId(protoId);
    if (proto.kind !== BtfKind.FUNC_PROTO) return;
    for (const p of proto.params) if (p.type && !p.name) p.name = DUMMY_KSYM;
  };

  for (const t of types) {
    if (t.kind !== BtfKind.DATASEC) continue;
    if (t.name === '.kconfig') {
      let size = 0;
      for (const vs of t.vars) {
        const v = byId(vs.type);
        const ext = spec.externs.find((e) => e.kind === 'kconfig' && e.name === v.name);
        if (!ext || v.kind !== BtfKind.VAR) throw new ObjectError(`.kconfig DATASEC entry '${v.name}' is not a known kconfig extern`);
        v.linkage = BtfVarLinkage.GLOBAL_ALLOCATED;
        vs.offset = ext.offset;
        vs.size = ext.size;
        size = Math.max(size, ext.offset + ext.size);
      }
      t.size = spec.maps.find((m) => m.origin === 'kconfig')?.valueSize ?? size;
      t.vars.sort((a, b) => a.offset - b.offset); // the kernel wants increasing offsets
    } else if (t.name === '.ksyms') {
      ksymPlaceholders();
      t.vars.forEach((vs, i) => {
        const v = byId(vs.type);
        if (v.kind === BtfKind.FUNC) {
          nameParams(v.type);
          v.linkage = BtfFuncLinkage.GLOBAL;
          vs.type = dummyVarId;
        } else if (v.kind === BtfKind.VAR) {
          v.linkage = BtfVarLinkage.GLOBAL_ALLOCATED;
          v.type = intId;
        }
        vs.offset = i * 4;
        vs.size = 4;
      });
      t.size = t.vars.length * 4;
    } else {
      const sec = spec.dataSections.get(t.name);
      if (!sec) continue; // a DATASEC without an ELF section: nothing to take sizes from
      t.size = sec.size;
      for (const vs of t.vars) {
        const v = byId(vs.type);
        if (v.kind !== BtfKind.VAR || v.linkage === BtfVarLinkage.GLOBAL_EXTERN) continue;
        const off = sec.symbols.get(v.name);
        if (off !== undefined) vs.offset = off;
        // hidden globals are private to the object: libbpf marks them static
        if (sec.hidden.has(v.name)) v.linkage = BtfVarLinkage.STATIC;
      }
      t.vars.sort((a, b) => a.offset - b.offset);
    }
  }
  // Extern functions outside .ksyms (kfuncs declared without __ksym) would make the kernel refuse
  // the whole BTF: give them the same treatment.
  for (const t of types) {
    // a hidden global function is verified like a static one, in its caller's context (as libbpf)
    if (t.kind === BtfKind.FUNC && t.linkage === BtfFuncLinkage.GLOBAL && spec.hiddenFunctions.has(t.name)) t.linkage = BtfFuncLinkage.STATIC;
    if (t.kind === BtfKind.FUNC && t.linkage === BtfFuncLinkage.EXTERN) {
      nameParams(t.type);
      t.linkage = BtfFuncLinkage.GLOBAL;
    }
    if (t.kind === BtfKind.VAR && t.linkage === BtfVarLinkage.GLOBAL_EXTERN) t.linkage = BtfVarLinkage.GLOBAL_ALLOCATED;
  }
  return b;
}
