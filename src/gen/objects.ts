// `tsbpf gen types`: a TypeScript module for one object, from its BTF — interfaces for its maps' keys
// and values, its buffers' records, its globals (.rodata constants, .data/.bss), its program names,
// and a typed loader (src/kernel/typed.ts). What bpf2go is for Go and `bpftool gen skeleton` for C.
// Pure: bytes in, source text out (no timestamps, so a committed file can be checked for staleness).
import type { Btf } from '../btf/btf.js';
import { compileCodec } from '../btf/codec.js';
import { BtfKind, BtfVarLinkage } from '../btf/types.js';
import { findTypeId } from '../btf/type-name.js';
import { kernelBtf } from '../object/btf-fixup.js';
import { parseObject } from '../object/load-spec.js';
import { mapValueTypes } from '../object/map-types.js';
import type { CollectionSpec, MapSpec } from '../object/spec.js';
import { MapType } from '../uapi/bpf.js';
import { bufferRecordTypes } from './records.js';
import { objectField, objectType, pascalCase, propName, quote as q, TypeWriter, type Declaration } from './ts-types.js';

export interface GenerateTypesOptions {
  /** the object's name: `<Name>Objects`, `<Name>Maps`, ... (default: the spec's, from the file name) */
  name?: string;
  /** where the generated module imports tsbpf from (default 'tsbpf'; the built-in tools use a relative path) */
  importFrom?: string;
  /** ring/perf buffer map → its records' BTF type (`struct event`), where inference cannot tell */
  records?: Readonly<Record<string, string>>;
  /** the object as named in the header comment (default `<name>.bpf.o`) */
  source?: string;
}

const GLOBAL_ORIGINS = new Set(['rodata', 'data', 'bss']);

/** The TypeScript module for an object (ELF bytes or a parsed spec). */
export function generateTypes(input: Uint8Array | CollectionSpec, opts: GenerateTypesOptions = {}): string {
  return typeModule(input, opts).render();
}

/** Declarations that several modules import from one shared module instead of declaring each. */
export interface SharedTypes {
  /** the declarations, by their text (a module's own declaration of the same name but another body stays its own) */
  texts: ReadonlySet<string>;
  /**
   * members declared alike by several modules, by the shared type that holds them (`SharedRodata`:
   * a .rodata variable, `SharedMaps`: a map) → their texts; a module picks those it has from there
   */
  members?: ReadonlyMap<string, ReadonlySet<string>>;
  /** the shared module, as the importing module names it ('../common/objects.gen.js') */
  from: string;
}

/** One member of a generated record type: a data section's variable, or a map. */
export interface Member {
  name: string;
  /** its declaration, as the type's body writes it (doc comment included) */
  text: string;
}

/** An object's module before it is written: its declarations, and the text with some of them imported. */
export interface TypeModule {
  declarations: readonly Declaration[];
  /** the members of its data sections' types and of its maps type, by the shared type that would hold them alike */
  members: ReadonlyMap<string, readonly Member[]>;
  render(shared?: SharedTypes): string;
}

/** The type several modules' data sections named `section` (`.rodata`) share variables through: `SharedRodata`. */
export function sharedSectionType(section: string): string {
  return `Shared${pascalCase(section)}`;
}

/** The interface several modules share maps through. */
export const SHARED_MAPS = 'SharedMaps';

/** The module of `generateTypes`, with its BTF-derived declarations apart (src/gen/tools.ts shares them across the tools). */
export function typeModule(input: Uint8Array | CollectionSpec, opts: GenerateTypesOptions = {}): TypeModule {
  const spec = input instanceof Uint8Array ? parseObject(input, opts.name ?? 'obj') : input;
  if (!spec.btf) throw new Error(`object ${spec.name} has no BTF: compile it with clang -g to generate types`);
  // DATASEC sizes and offsets filled in, as the loader's codecs see them
  const btf = kernelBtf(spec).build();
  const name = opts.name ?? spec.name;
  const Obj = pascalCase(name);
  const n = { maps: `${Obj}Maps`, objects: `${Obj}Objects` };
  const w = new TypeWriter(btf, ['BpfMap', 'defineObjects', 'LoadedOf', 'recordType', ...Object.values(n)]);

  // globals: one type per data section; the constants are its variables (defineObjects derives them), less the `fixed` ones
  const sectionType = new Map<string, string>();
  /** a section's type → its doc and the shared type its variables would be picked from */
  const sections = new Map<string, { doc: string; shared: string }>();
  const members = new Map<string, Member[]>();
  /** variables not the object's to set: static variables (a function's `static const` locals, `count_flow.one`) */
  const fixed: string[] = [];
  for (const m of spec.maps) {
    if (!GLOBAL_ORIGINS.has(m.origin) && m.origin !== 'kconfig') continue;
    const sec = btf.findByName(m.section, BtfKind.DATASEC);
    if (!sec || sec.kind !== BtfKind.DATASEC) continue;
    const fields = sec.vars.map((v) => {
      const doc = `${w.cName(v.type)}${defaultOf(btf, v.type, v.offset, m)}`;
      return { name: btf.nameOf(v.type), type: w.type(v.type), doc };
    });
    const tname = w.claim(`${Obj}${pascalCase(m.section)}`);
    const doc = `the variables of ${m.section}${m.origin === 'rodata' ? ' (fixed at load: set them with `constants`)' : ''}`;
    w.declareObject(tname, doc, fields);
    sections.set(tname, { doc, shared: sharedSectionType(m.section) });
    members.set(sharedSectionType(m.section), fields.map((f) => ({ name: f.name, text: objectField(f) })));
    sectionType.set(m.name, tname);
    if (!GLOBAL_ORIGINS.has(m.origin)) continue;
    for (const v of sec.vars) {
      const t = btf.typeById(v.type);
      if (t.kind !== BtfKind.VAR || t.linkage === BtfVarLinkage.STATIC) fixed.push(btf.nameOf(v.type));
    }
  }

  // maps, in the object's order; a data section's is typed by its section type (defineObjects' `sections`)
  const mapProps: [prop: string, m: MapSpec, type: string][] = [];
  const sectionProps: [prop: string, type: string][] = [];
  const props = new Set<string>();
  for (const m of spec.maps) {
    let prop = mapProperty(m);
    for (let i = 2; props.has(prop); i++) prop = `${mapProperty(m)}_${i}`;
    props.add(prop);
    const section = sectionType.get(m.name);
    if (section) sectionProps.push([prop, section]);
    else mapProps.push([prop, m, mapType(m)]);
  }
  function mapType(m: MapSpec): string {
    const t = mapValueTypes(btf, m);
    if (!t) return 'BpfMap';
    const key = t.key === 'u32' ? 'number' : w.type(t.key);
    return `BpfMap<${key}, ${w.type(t.value)}>`;
  }

  // buffer records
  const named: Record<string, number> = {};
  for (const [map, type] of Object.entries(opts.records ?? {})) {
    if (!spec.maps.some((m) => m.name === map)) throw new Error(`--record ${map}=${type}: no map '${map}' in ${spec.name}`);
    const id = findTypeId(btf, type);
    if (id === undefined) throw new Error(`--record ${map}=${type}: no type '${type}' in the BTF of ${spec.name}`);
    named[map] = id;
  }
  const records: string[] = [];
  /** buffers' maps: defineObjects types them from `records` */
  const buffers = new Set<string>();
  for (const [map, r] of bufferRecordTypes(spec, btf, named)) {
    const type = r.typeId === undefined ? 'recordType<Uint8Array>()' : `recordType<${w.type(r.typeId)}>(${q(recordTypeName(btf.typeById(r.typeId).kind, btf.nameOf(r.typeId)))})`;
    records.push(`/** ${r.how} */ ${propName(map)}: ${type}`);
    buffers.add(map);
  }

  members.set(SHARED_MAPS, mapProps.filter(([, m, type]) => !(buffers.has(m.name) && type === 'BpfMap')).map(([prop, m, type]) => ({ name: prop, text: `  /** ${describeMap(m)} */\n  ${propName(prop)}: ${type};` })));
  const programs = spec.programs.map((p) => p.name);
  const source = opts.source ?? `${name}.bpf.o`;
  const from = opts.importFrom ?? 'tsbpf';
  const declarations = w.declarations();
  const render = (shared?: SharedTypes): string => {
    // members picked from a shared type, and the rest declared here
    const picked = new Map<string, string[]>();
    const ownMembers = (type: string): string => {
      const all = members.get(type) ?? [];
      const sharedTexts = shared?.members?.get(type);
      const pick = all.filter((m) => sharedTexts?.has(m.text)).map((m) => m.name);
      if (pick.length) picked.set(type, pick);
      return all.filter((m) => !sharedTexts?.has(m.text)).map((m) => m.text).join('\n');
    };
    const pickFrom = (type: string): string | undefined => (picked.has(type) ? `Pick<${type}, ${picked.get(type)!.map((x) => q(x)).join(' | ')}>` : undefined);
    const own = declarations
      .filter((d) => !shared?.texts.has(d.text))
      .map((d) => {
        const section = sections.get(d.name);
        if (!section) return d.text;
        const body = ownMembers(section.shared);
        return objectType(d.name, section.doc, body, pickFrom(section.shared));
      });
    const mapsBody = ownMembers(SHARED_MAPS);
    const mapsBase = pickFrom(SHARED_MAPS);
    const imported = [...declarations.filter((d) => shared?.texts.has(d.text)).map((d) => (d.value ? d.name : `type ${d.name}`)), ...[...picked.keys()].map((t) => `type ${t}`)];
    // what defineObjects derives the rest from; a maps type only where there is one to declare
    const types = [
      ...(mapsBody ? [`maps: ${n.maps}`] : mapsBase ? [`maps: ${mapsBase}`] : []),
      ...(sectionProps.length ? [`sections: { ${sectionProps.map(([prop, type]) => `${propName(prop)}: ${type}`).join('; ')} }`] : []),
      ...(fixed.length ? [`fixed: ${fixed.map((x) => q(x)).join(' | ')}`] : []),
    ];
    const typeArg = types.length === 0 ? '' : types.join('; ').length <= 100 ? `<{ ${types.join('; ')} }>` : `<{\n${types.map((t) => `  ${t};`).join('\n')}\n}>`;
    return [
      `// Generated by \`tsbpf gen types\` from ${source}'s BTF. Do not edit: generate it again when the object changes.`,
      `import { defineObjects, ${records.length ? 'recordType, ' : ''}${mapsBody ? 'type BpfMap, ' : ''}type LoadedOf } from ${q(from)};`,
      ...(imported.length && shared ? [`import { ${imported.join(', ')} } from ${q(shared.from)};`] : []),
      '',
      ...own.flatMap((text) => [text, '']),
      ...(mapsBody
        ? [`/** The maps of ${source} (its data sections' and buffers' maps come from \`sections\` and \`records\`). */`, `export interface ${n.maps}${mapsBase ? ` extends ${mapsBase}` : ''} {`, mapsBody, '}', '']
        : []),
      `/** ${source}, typed: \`${n.objects}.load(path, { constants })\` → maps, programs and buffers by name. */`,
      `export const ${n.objects} = defineObjects${typeArg}()({`,
      `  programs: [${programs.map((p) => q(p)).join(', ')}],`,
      ...(records.length === 1 ? [`  records: { ${records[0]} },`] : records.length ? ['  records: {', ...records.map((r) => `    ${r},`), '  },'] : []),
      '});',
      `export type ${n.objects} = LoadedOf<typeof ${n.objects}>;`,
      '',
    ].join('\n');
  };
  return { declarations, members, render };
}

/** `maps.counts`, `maps.rodata`, `maps.data_custom` */
function mapProperty(m: MapSpec): string {
  const base = m.section.startsWith('.') && m.origin !== 'btf' && m.origin !== 'legacy' ? m.section.slice(1) : m.name;
  return base.replace(/[^A-Za-z0-9_$]/g, '_').replace(/^([0-9])/, '_$1');
}

function describeMap(m: MapSpec): string {
  const type = MapType[m.type]?.toLowerCase() ?? `type ${m.type}`;
  if (m.origin !== 'btf' && m.origin !== 'legacy') return `${m.section} (${type})`;
  return `${m.name}: ${type}, max_entries ${m.maxEntries}`;
}

function recordTypeName(kind: BtfKind, name: string): string {
  return kind === BtfKind.STRUCT ? `struct ${name}` : kind === BtfKind.UNION ? `union ${name}` : name;
}

/** `, default 42` for a global with a non-zero initial value (its bytes in the section's contents). */
function defaultOf(btf: Btf, typeId: number, offset: number, m: MapSpec): string {
  if (!m.contents) return '';
  try {
    const v = compileCodec(btf, typeId).decode(new DataView(m.contents.buffer, m.contents.byteOffset, m.contents.byteLength), offset);
    const zero = (x: unknown): boolean => x === 0 || x === 0n || x === false || x === '' || (Array.isArray(x) && x.every(zero));
    if (zero(v) || (typeof v === 'object' && !Array.isArray(v))) return '';
    const text = typeof v === 'bigint' ? `${v}n` : JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x));
    return text.length <= 40 ? `, default ${text}` : '';
  } catch {
    return '';
  }
}
