// parseObject: a clang-built BPF ELF object → CollectionSpec (programs linked, maps described,
// relocations recorded), following libbpf's conventions so objects built for libbpf load unchanged.
import { parseElf } from '../elf/reader.js';
import { EM_BPF, ET_REL, SHF_EXECINSTR, SHT_PROGBITS, STB_LOCAL, STT_FUNC, STT_SECTION, STV_HIDDEN } from '../elf/constants.js';
import type { ElfSymbol } from '../elf/reader.js';
import { parseBtf } from '../btf/parse.js';
import { parseBtfExt } from '../btf/ext.js';
import { BtfKind } from '../btf/types.js';
import { ProgramType, AttachType } from '../uapi/bpf.js';
import { sectionInfo } from './sections.js';
import { btfMaps, dataMaps, legacyMaps, mapInitialisers, type ObjectContext, type PlacedMap } from './maps.js';
import { collectExterns } from './externs.js';
import { linkProgram, readCode } from './link.js';
import { objectName } from './names.js';
import { ObjectError, type CollectionSpec, type ProgramSpec } from './spec.js';

export { ObjectError };

/**
 * Parse a BPF ELF object. `name` is the object name libbpf would use (the file name up to its first
 * '.'; a file name is accepted and trimmed): it prefixes global data map names (`tcpconne.rodata`).
 * Throws ElfError, BtfError or ObjectError on malformed input.
 */
export function parseObject(bytes: Uint8Array, name = 'obj'): CollectionSpec {
  const objName = objectName(name) || 'obj';
  const elf = parseElf(bytes);
  if (elf.machine !== EM_BPF) throw new ObjectError(`not a BPF object: e_machine is ${elf.machine}, want EM_BPF (${EM_BPF})`);
  if (elf.type !== ET_REL) throw new ObjectError(`not a relocatable object: e_type ${elf.type}`);
  const symbols = elf.symbols();
  if (!symbols.length) throw new ObjectError('object has no symbol table');

  const licenseSec = elf.section('license');
  const license = licenseSec ? cString(elf.data(licenseSec)) : '';
  const versionSec = elf.section('version');
  let kernelVersion = 0;
  if (versionSec) {
    const v = elf.data(versionSec);
    if (v.length !== 4) throw new ObjectError(`'version' section is ${v.length} bytes, want 4`);
    kernelVersion = new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
  }

  const btfSec = elf.section('.BTF');
  const btfBytes = btfSec ? Uint8Array.from(elf.data(btfSec)) : undefined;
  const btf = btfBytes ? parseBtf(btfBytes) : undefined;
  const extSec = elf.section('.BTF.ext');
  const btfExt = extSec && btf ? parseBtfExt(elf.data(extSec), btf) : undefined;

  const ctx: ObjectContext = { elf, symbols, btf, objName };
  const btfMapList = btfMaps(ctx);
  const legacy = legacyMaps(ctx);
  const data = dataMaps(ctx);
  const { externs, kconfigMap } = collectExterns(symbols, btf, objName);
  const placed: PlacedMap[] = [...btfMapList, ...legacy, ...data];
  if (kconfigMap) placed.push({ spec: kconfigMap, shndx: -1, offset: 0, size: kconfigMap.valueSize });
  mapInitialisers(ctx, btfMapList);
  const names = new Set<string>();
  for (const m of placed) {
    if (names.has(m.spec.name)) throw new ObjectError(`two maps are named '${m.spec.name}'`);
    names.add(m.spec.name);
  }

  const exec = elf.sections.filter((s) => s.type === SHT_PROGBITS && s.flags & SHF_EXECINSTR && s.size > 0);
  const code = readCode(elf, symbols, exec);
  const linkCtx = { elf, symbols, code, maps: placed, externs, btfExt };

  const programs: ProgramSpec[] = [];
  for (const cs of code.values()) {
    if (cs.sec.name === '.text') continue; // subprograms only
    // SEC("?name"): libbpf's marker for a program that is not loaded unless asked for
    const autoload = !cs.sec.name.startsWith('?');
    const info = sectionInfo(autoload ? cs.sec.name : cs.sec.name.slice(1));
    for (const f of cs.funcs) {
      const sym = symbols.find((s) => s.name === f.name && s.shndx === cs.sec.index);
      if (sym?.bind === STB_LOCAL) throw new ObjectError(`program '${f.name}' in '${cs.sec.name}' is static; libbpf requires entry programs to be global`);
      const linked = linkProgram(linkCtx, f);
      const btfFunc = btf?.findAllByName(f.name, BtfKind.FUNC)[0];
      programs.push({
        name: f.name,
        section: cs.sec.name,
        autoload,
        type: info?.type ?? ProgramType.UNSPEC,
        expectedAttachType: info?.expectedAttachType ?? (0 as AttachType),
        attach: { kind: info?.kind ?? 'unknown', target: info?.target ?? '' },
        sleepable: info?.sleepable ?? false,
        xdpFrags: info?.xdpFrags ?? false,
        attachBtf: info?.attachBtf ?? false,
        license,
        kernelVersion,
        poisoned: [],
        btfFuncId: btfFunc?.id ?? 0,
        ...linked,
      });
    }
  }
  const dataSections = new Map<string, { size: number; symbols: Map<string, number>; hidden: Set<string> }>();
  for (const s of elf.sections) {
    if (s.index === 0 || !s.name) continue;
    const syms = new Map<string, number>();
    const hidden = new Set<string>();
    for (const sym of symbols) {
      if (sym.shndx !== s.index || !sym.name || sym.type === STT_SECTION) continue;
      syms.set(sym.name, Number(sym.value));
      if (isHidden(sym)) hidden.add(sym.name);
    }
    dataSections.set(s.name, { size: s.size, symbols: syms, hidden });
  }
  const hiddenFunctions = new Set(symbols.filter((s) => s.type === STT_FUNC && s.bind !== STB_LOCAL && isHidden(s)).map((s) => s.name));
  return { name: objName, programs, maps: placed.map((p) => p.spec), externs, license, kernelVersion, btf, btfExt, btfBytes, dataSections, hiddenFunctions };
}

/** STV_HIDDEN or STV_INTERNAL (1): not visible outside the object. */
const isHidden = (s: ElfSymbol): boolean => s.visibility === STV_HIDDEN || s.visibility === 1;

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}
