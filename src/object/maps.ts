// Map definitions of an object: BTF-defined maps in `.maps`, legacy `struct bpf_map_def` in `maps`,
// and one single-element array per global data section (.data, .rodata, .bss, .data.*, .rodata.*).
import type { Btf } from '../btf/btf.js';
import { BtfKind, isEnum, type BtfDatasec, type BtfType } from '../btf/types.js';
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/reader.js';
import { SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, SHT_REL, STT_FUNC, STT_SECTION } from '../elf/constants.js';
import { MapType } from '../uapi/bpf.js';
import { internalMapName } from './names.js';
import { ObjectError, type MapOrigin, type MapSpec } from './spec.js';

/** Map creation flags libbpf sets on global data maps (<linux/bpf.h>). */
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_MMAPABLE = 1 << 10;
/** libbpf's pinning values (enum libbpf_pin_type) */
export const LIBBPF_PIN_NONE = 0;
export const LIBBPF_PIN_BY_NAME = 1;

const emptyMap = (name: string, section: string, origin: MapOrigin): MapSpec => ({
  name, section, origin, type: MapType.UNSPEC, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, numaNode: 0,
  pinning: 0, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0, initSlots: [], frozen: false,
});

/** Is this a section libbpf turns into a global data map? */
export function dataSectionKind(s: ElfSection): 'data' | 'rodata' | 'bss' | undefined {
  if (s.flags & SHF_EXECINSTR) return undefined;
  if (s.type === SHT_NOBITS && (s.name === '.bss' || s.name.startsWith('.bss.'))) return 'bss';
  if (s.type !== SHT_PROGBITS) return undefined;
  if (s.name === '.data' || s.name.startsWith('.data.')) return 'data';
  if (s.name === '.rodata' || s.name.startsWith('.rodata.')) return 'rodata';
  return undefined;
}

/** The symbols defined in a section, sorted by offset. */
export function sectionSymbols(symbols: readonly ElfSymbol[], shndx: number): ElfSymbol[] {
  return symbols.filter((s) => s.shndx === shndx && s.type !== STT_SECTION && s.name !== '').sort((a, b) => Number(a.value - b.value));
}

// --- BTF-defined maps ---

interface BtfMapDef {
  type: number;
  keySize?: number;
  valueSize?: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  pinning: number;
  mapExtra: bigint;
  keyTypeId: number;
  valueTypeId: number;
  /** `values` member: bit offset and (map-in-map) inner definition */
  values?: { byteOffset: number; inner?: BtfMapDef };
}

/** `__uint(name, N)` is `int (*name)[N]`: the number is the array's length; `__ulong` uses an enum. */
function intField(btf: Btf, mapName: string, field: string, typeId: number): bigint {
  const t = btf.resolve(typeId);
  if (t.kind === BtfKind.PTR) {
    const arr = btf.resolve(t.type);
    if (arr.kind === BtfKind.ARRAY) return BigInt(arr.nelems);
  } else if (isEnum(t) && t.values.length) {
    return BigInt(t.values[0]!.value);
  }
  throw new ObjectError(`map '${mapName}': field '${field}' is not an __uint()/__ulong() (BTF kind ${BtfKind[t.kind]})`);
}

/** `__type(name, T)` is `T *name`: returns T's id. */
function typeField(btf: Btf, mapName: string, field: string, typeId: number): number {
  const t = btf.resolve(typeId);
  if (t.kind !== BtfKind.PTR) throw new ObjectError(`map '${mapName}': field '${field}' is not a __type() pointer`);
  return t.type;
}

function parseBtfMapDef(btf: Btf, mapName: string, defType: BtfType, isInner = false): BtfMapDef {
  const t = defType.kind === BtfKind.VAR ? btf.resolve(defType.type) : btf.resolve(defType.id);
  if (t.kind !== BtfKind.STRUCT) throw new ObjectError(`map '${mapName}': definition is a ${BtfKind[t.kind]}, not a struct`);
  const def: BtfMapDef = { type: 0, maxEntries: 0, flags: 0, numaNode: 0, pinning: 0, mapExtra: 0n, keyTypeId: 0, valueTypeId: 0 };
  const num = (field: string, id: number) => {
    const v = intField(btf, mapName, field, id);
    if (v > 0xffffffffn) throw new ObjectError(`map '${mapName}': ${field} ${v} does not fit 32 bits`);
    return Number(v);
  };
  for (const m of t.members) {
    switch (m.name) {
      case 'type': def.type = num(m.name, m.type); break;
      case 'max_entries': def.maxEntries = num(m.name, m.type); break;
      case 'map_flags': def.flags = num(m.name, m.type); break;
      case 'numa_node': def.numaNode = num(m.name, m.type); break;
      case 'pinning':
        def.pinning = num(m.name, m.type);
        if (def.pinning !== LIBBPF_PIN_NONE && def.pinning !== LIBBPF_PIN_BY_NAME) throw new ObjectError(`map '${mapName}': invalid pinning ${def.pinning} (LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME)`);
        break;
      case 'map_extra': def.mapExtra = intField(btf, mapName, m.name, m.type); break;
      case 'key_size': setSize(def, 'keySize', num(m.name, m.type), mapName); break;
      case 'value_size': setSize(def, 'valueSize', num(m.name, m.type), mapName); break;
      case 'key':
        def.keyTypeId = typeField(btf, mapName, m.name, m.type);
        setSize(def, 'keySize', btf.sizeof(def.keyTypeId), mapName);
        break;
      case 'value':
        def.valueTypeId = typeField(btf, mapName, m.name, m.type);
        setSize(def, 'valueSize', btf.sizeof(def.valueTypeId), mapName);
        break;
      case 'values': {
        if (isInner) throw new ObjectError(`map '${mapName}': an inner map cannot have 'values'`);
        if (m !== t.members[t.members.length - 1]) throw new ObjectError(`map '${mapName}': 'values' must be the last member`);
        // `T *values[]`: a zero-length array of pointers to the element definition
        const arr = btf.resolve(m.type);
        if (arr.kind !== BtfKind.ARRAY) throw new ObjectError(`map '${mapName}': 'values' is not an array`);
        const ptr = btf.resolve(arr.type);
        if (ptr.kind !== BtfKind.PTR) throw new ObjectError(`map '${mapName}': 'values' elements are not pointers`);
        const elem = btf.resolve(ptr.type);
        def.values = { byteOffset: m.bitOffset / 8 };
        if (elem.kind === BtfKind.STRUCT) def.values.inner = parseBtfMapDef(btf, `${mapName}.inner`, elem, true);
        else if (elem.kind !== BtfKind.FUNC_PROTO) throw new ObjectError(`map '${mapName}': 'values' must point to a map definition or a function`);
        setSize(def, 'valueSize', 4, mapName);
        break;
      }
      default:
        throw new ObjectError(`map '${mapName}': unknown field '${m.name}'`);
    }
  }
  if (def.values) {
    const isMapInMap = def.type === MapType.ARRAY_OF_MAPS || def.type === MapType.HASH_OF_MAPS;
    if (isMapInMap !== !!def.values.inner || (!isMapInMap && def.type !== MapType.PROG_ARRAY)) {
      throw new ObjectError(`map '${mapName}': 'values' of functions needs a prog array, of map definitions a map of maps`);
    }
  }
  return def;
}

function setSize(def: BtfMapDef, key: 'keySize' | 'valueSize', size: number, mapName: string): void {
  if (def[key] !== undefined && def[key] !== size) {
    throw new ObjectError(`map '${mapName}': conflicting ${key === 'keySize' ? 'key' : 'value'} size ${def[key]} != ${size}`);
  }
  def[key] = size;
}

/** Map types the kernel takes no key/value BTF for: libbpf drops their BTF type ids. */
const NO_BTF_TYPES = new Set<number>([
  MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS,
  MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP, MapType.SOCKHASH, MapType.QUEUE,
  MapType.STACK, MapType.ARENA,
]);

function specFromDef(name: string, def: BtfMapDef): MapSpec {
  if (NO_BTF_TYPES.has(def.type)) {
    def.keyTypeId = 0;
    def.valueTypeId = 0;
  }
  const spec = emptyMap(name, '.maps', 'btf');
  Object.assign(spec, {
    type: def.type, keySize: def.keySize ?? 0, valueSize: def.valueSize ?? 0, maxEntries: def.maxEntries, flags: def.flags,
    numaNode: def.numaNode, pinning: def.pinning, mapExtra: def.mapExtra, btfKeyTypeId: def.keyTypeId, btfValueTypeId: def.valueTypeId,
  });
  if (def.values?.inner) spec.innerMap = specFromDef(`${name}.inner`, def.values.inner);
  return spec;
}

export interface ObjectContext {
  elf: ElfFile;
  symbols: readonly ElfSymbol[];
  btf?: Btf;
  objName: string;
}

/** A map together with where its definition sits in the ELF (to match relocations). */
export interface PlacedMap {
  spec: MapSpec;
  shndx: number;
  offset: number;
  size: number;
  valuesOffset?: number;
}

/** BTF-defined maps of `.maps`, in the DATASEC's order (libbpf's order). */
export function btfMaps(ctx: ObjectContext): PlacedMap[] {
  const sec = ctx.elf.section('.maps');
  if (!sec) return [];
  if (!ctx.btf) throw new ObjectError("'.maps' section needs BTF (compile with -g)");
  const datasec = ctx.btf.findByName('.maps', BtfKind.DATASEC) as BtfDatasec | undefined;
  if (!datasec) throw new ObjectError("no DATASEC '.maps' in BTF");
  const syms = new Map(sectionSymbols(ctx.symbols, sec.index).map((s) => [s.name, s]));
  const out: PlacedMap[] = [];
  for (const v of datasec.vars) {
    const varType = ctx.btf.typeById(v.type);
    if (varType.kind !== BtfKind.VAR) throw new ObjectError(`'.maps' DATASEC entry ${v.type} is a ${BtfKind[varType.kind]}, not a VAR`);
    const sym = syms.get(varType.name);
    if (!sym) throw new ObjectError(`map '${varType.name}': no ELF symbol in '.maps'`);
    const def = parseBtfMapDef(ctx.btf, varType.name, varType);
    out.push({ spec: specFromDef(varType.name, def), shndx: sec.index, offset: Number(sym.value), size: Number(sym.size), valuesOffset: def.values?.byteOffset });
  }
  return out;
}

/**
 * `__array(values, ...)` initialisers: relocations in `.rel.maps` against programs (prog arrays)
 * or maps (maps of maps), placed at values[i].
 */
export function mapInitialisers(ctx: ObjectContext, maps: PlacedMap[]): void {
  const sec = ctx.elf.section('.maps');
  if (!sec) return;
  const rel = ctx.elf.sections.find((s) => s.type === SHT_REL && s.info === sec.index);
  if (!rel) return;
  for (const r of ctx.elf.relocations(rel)) {
    const sym = ctx.symbols[r.symbol];
    if (!sym) throw new ObjectError(`.rel.maps: symbol index ${r.symbol} out of range`);
    const m = maps.find((p) => r.offset >= p.offset && r.offset < p.offset + Math.max(p.size, 1));
    if (!m || m.valuesOffset === undefined) throw new ObjectError(`.rel.maps: relocation at ${r.offset} is not inside a map's 'values'`);
    const rel8 = r.offset - m.offset - m.valuesOffset;
    if (rel8 < 0 || rel8 % 8 !== 0) throw new ObjectError(`map '${m.spec.name}': misaligned 'values' initialiser at ${r.offset}`);
    const index = rel8 / 8;
    if (m.spec.type === MapType.PROG_ARRAY) {
      if (sym.type !== STT_FUNC) throw new ObjectError(`map '${m.spec.name}': values[${index}] '${sym.name}' is not a program`);
    } else {
      const target = maps.find((p) => p.shndx === sym.shndx && p.offset === Number(sym.value));
      if (!target) throw new ObjectError(`map '${m.spec.name}': values[${index}] '${sym.name}' is not a map`);
    }
    if (index >= m.spec.maxEntries) throw new ObjectError(`map '${m.spec.name}': values[${index}] beyond max_entries ${m.spec.maxEntries}`);
    m.spec.initSlots.push({ index, value: sym.name });
  }
  for (const m of maps) m.spec.initSlots.sort((a, b) => a.index - b.index);
}

// --- legacy maps ---

/** struct bpf_map_def { type, key_size, value_size, max_entries, map_flags, [inner_map_idx, numa_node] } */
export function legacyMaps(ctx: ObjectContext): PlacedMap[] {
  const sec = ctx.elf.section('maps');
  if (!sec || sec.type !== SHT_PROGBITS) return [];
  const data = ctx.elf.data(sec);
  const syms = sectionSymbols(ctx.symbols, sec.index);
  if (!syms.length) return [];
  // All definitions have one size: the section divided among its symbols (libbpf's rule).
  const size = data.length / syms.length;
  if (!Number.isInteger(size) || size < 20 || size % 4 !== 0) {
    throw new ObjectError(`legacy 'maps' section: ${data.length} bytes do not divide into ${syms.length} struct bpf_map_def`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return syms.map((s) => {
    const off = Number(s.value);
    if (off + size > data.length) throw new ObjectError(`legacy map '${s.name}' runs past the 'maps' section`);
    const u = (i: number) => view.getUint32(off + i * 4, true);
    const spec = emptyMap(s.name, 'maps', 'legacy');
    Object.assign(spec, { type: u(0), keySize: u(1), valueSize: u(2), maxEntries: u(3), flags: u(4), numaNode: size >= 28 ? u(6) : 0 });
    return { spec, shndx: sec.index, offset: off, size };
  });
}

// --- global data ---

const MAX_DATA_SECTION = 1 << 30;

/** One BPF_MAP_TYPE_ARRAY of one element per non-empty data section, in section order (as libbpf). */
export function dataMaps(ctx: ObjectContext): PlacedMap[] {
  const out: PlacedMap[] = [];
  for (const s of ctx.elf.sections) {
    const kind = dataSectionKind(s);
    if (!kind || s.size === 0) continue;
    // .bss claims its size without bytes in the file; no BPF map value is anywhere near 1 GiB
    if (s.size > MAX_DATA_SECTION) throw new ObjectError(`section '${s.name}' claims ${s.size} bytes, more than a map value can hold`);
    const spec = emptyMap(internalMapName(ctx.objName, s.name), s.name, kind);
    const datasec = ctx.btf?.findByName(s.name, BtfKind.DATASEC) as BtfDatasec | undefined;
    Object.assign(spec, {
      type: MapType.ARRAY, keySize: 4, valueSize: s.size, maxEntries: 1,
      flags: (kind === 'rodata' ? BPF_F_RDONLY_PROG : 0) | (datasec && isMmapable(ctx.btf!, datasec, hiddenIn(ctx, s.index)) ? BPF_F_MMAPABLE : 0),
      btfValueTypeId: datasec?.id ?? 0,
      contents: kind === 'bss' ? new Uint8Array(s.size) : Uint8Array.from(ctx.elf.data(s)),
      frozen: kind === 'rodata',
    });
    out.push({ spec, shndx: s.index, offset: 0, size: s.size });
  }
  return out;
}

/** libbpf makes a data map mmapable when it holds at least one non-static (and not hidden) variable. */
function isMmapable(btf: Btf, datasec: BtfDatasec, hidden: Set<string>): boolean {
  return datasec.vars.some((v) => {
    const t = btf.typeById(v.type);
    return t.kind === BtfKind.VAR && t.linkage !== 0 && !hidden.has(t.name);
  });
}

/** Names of hidden-visibility symbols of a section. */
function hiddenIn(ctx: ObjectContext, shndx: number): Set<string> {
  return new Set(ctx.symbols.filter((s) => s.shndx === shndx && (s.visibility === 2 || s.visibility === 1)).map((s) => s.name));
}
