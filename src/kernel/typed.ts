// The typed loader that `tsbpf gen types` declares for an object: the counterpart of bpf2go's
// objects struct and of libbpf's skeleton. The generated file holds only types and a layout (the
// programs, each buffer's record type); this is the code behind it, deriving what it can (the data
// sections' maps and the constants from the sections' types, the maps' properties from the object),
// so a generated file stays small and every object is loaded the same way.
//
//   import { TcpconnectObjects } from './tcpconnect.gen.js';
//   using objs = TcpconnectObjects.load('tcpconnect.bpf.o', { constants: { targ_pid: 42 } });
//   objs.maps.ipv4_count.get({ saddr: 0, daddr: 0, dport: 80, pad: 0 });   // BpfMap<Ipv4FlowKey, bigint>
//   objs.programs.kprobe_tcp_v4_connect.id;
//   for await (const e of objs.ringBuffer('events')) e.pid;                 // RingBuffer<Event>
//
// The generated definition writes each thing once:
//
//   export const TcpconnectObjects = defineObjects<{ maps: TcpconnectMaps; sections: { rodata: TcpconnectRodata } }>()({
//     programs: ['kprobe_tcp_v4_connect', …],               // the program names' type comes from this list
//     records: { events: recordType<Event>('struct event') }, // and the buffers' (their maps too) from this
//   });
//   export type TcpconnectObjects = LoadedOf<typeof TcpconnectObjects>;
import { Collection, type CollectionOptions, type ConstantValue, type RingBufferLoadOptions, type PerfBufferLoadOptions } from './collection.js';
import type { Program } from './program.js';
import type { RingBuffer } from '../maps/ringbuf.js';
import type { PerfBuffer } from '../maps/perfbuf.js';
import type { Link } from '../link/link.js';
import type { AttachOptions } from './attach.js';
import type { MapSpec } from '../object/spec.js';
import type { BpfMap } from '../maps/map.js';

export type { BpfMap } from '../maps/map.js';

/** A buffer's records: the BTF type they decode as at run time, and `T`, their TypeScript type. */
export interface RecordType<T> {
  /** the BTF type (`struct event`); absent: raw bytes */
  readonly type?: string;
  /** never set: carries `T` */
  readonly __records?: T;
}

/** The records of a buffer, for a generated layout: `recordType<Event>('struct event')`, or `recordType<Uint8Array>()` for raw bytes. */
export function recordType<T>(type?: string): RecordType<T> {
  return type === undefined ? {} : { type };
}

/** Ring/perf buffer map → its records. */
export type RecordTypes = Readonly<Record<string, RecordType<unknown>>>;

/** What the generated file says about its object at run time (its maps come from the object itself). */
export interface ObjectsLayout<P extends string, B extends RecordTypes = Record<never, never>> {
  /** every program of the object */
  readonly programs: readonly P[];
  /** its ring buffers and perf event arrays, by map */
  readonly records?: B;
}

/** The records' TypeScript types of a layout's buffers. */
export type RecordsOf<B> = { [K in keyof B]: B[K] extends RecordType<infer T> ? T : never };

/**
 * What the generated file says about its object's types: `defineObjects<{ maps: …; sections: { rodata: … } }>()`.
 * Everything else (the data sections' maps, the constants, the program names) is derived from these.
 */
export interface ObjectTypes {
  /** its maps, but for its data sections' */
  maps?: object;
  /** its data sections' variables by the section map's property (`rodata`, `bss`, `data_custom`, `kconfig`) */
  sections?: object;
  /** section variables the object does not let the loader set (a function's static locals), left out of `constants` */
  fixed?: string;
}

type Field<T, K extends keyof ObjectTypes> = K extends keyof T ? NonNullable<T[K]> : Record<never, never>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * The maps of an object: its own, one array map per data section whose value at key 0 is the
 * section's variables, and its buffers (`B`, untyped maps: their records are read with ringBuffer()).
 */
export type MapsOf<T extends ObjectTypes, B = Record<never, never>> = Field<T, 'maps'> &
  { [K in keyof Field<T, 'sections'>]: BpfMap<number, Field<T, 'sections'>[K]> } &
  { [K in Exclude<keyof B, keyof Field<T, 'maps'>>]: BpfMap };

/** The `constants` of an object: the variables of its data sections (not .kconfig's, which the kernel fills in), less the fixed ones. */
export type SectionConstants<T extends ObjectTypes> = [Exclude<keyof Field<T, 'sections'>, 'kconfig'>] extends [never]
  ? Record<string, never>
  : ConstantsOf<Omit<UnionToIntersection<Field<T, 'sections'>[Exclude<keyof Field<T, 'sections'>, 'kconfig'>]>, T extends { fixed: infer F extends string } ? F : never>>;

/** Collection.load's options with the object's own constants and program names. */
export interface TypedLoadOptions<C, P extends string> extends Omit<CollectionOptions, 'constants' | 'programs'> {
  /** globals set before load (`const volatile` in .rodata, or .data/.bss); undefined keeps the object's value */
  constants?: C;
  /** load only these programs */
  programs?: readonly P[];
}

/** A loaded object with typed maps, named programs and typed buffers. Owns its collection. */
export class LoadedObjects<M, P extends string, R> implements Disposable {
  /** the maps by property name; each is created when the collection loads */
  readonly maps: M;
  /** the programs by name; reading one that was not loaded (see `programs` option) throws */
  readonly programs: Readonly<Record<P, Program>>;

  constructor(
    readonly collection: Collection,
    private readonly layout: ObjectsLayout<P, RecordTypes>,
  ) {
    const maps = {} as Record<string, unknown>;
    for (const [prop, name] of mapProperties(collection.spec.maps)) Object.defineProperty(maps, prop, { enumerable: true, get: () => collection.map(name) });
    this.maps = maps as M;
    const programs = {} as Record<P, Program>;
    for (const name of layout.programs) Object.defineProperty(programs, name, { enumerable: true, get: () => collection.program(name) });
    this.programs = programs;
  }

  /** Attach the program `name`, or every loaded program whose SEC() says where. */
  attach(name?: P, opts?: AttachOptions): Link[] {
    return this.collection.attach(name, opts);
  }

  /** The records of ring buffer `name`, decoded as the generated record type. */
  ringBuffer<N extends keyof R & string>(name: N, opts: Omit<RingBufferLoadOptions, 'type'> = {}): RingBuffer<R[N]> {
    const type = this.layout.records?.[name]?.type;
    return (type === undefined ? this.collection.ringBuffer(name, opts) : this.collection.ringBuffer(name, { ...opts, type })) as RingBuffer<R[N]>;
  }

  /** The records of perf event array `name`, decoded as the generated record type. */
  perfBuffer<N extends keyof R & string>(name: N, opts: Omit<PerfBufferLoadOptions, 'type'> = {}): PerfBuffer<R[N]> {
    const type = this.layout.records?.[name]?.type;
    return (type === undefined ? this.collection.perfBuffer(name, opts) : this.collection.perfBuffer(name, { ...opts, type })) as PerfBuffer<R[N]>;
  }

  close(): void {
    this.collection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** What a generated file exports as `<Name>Objects`. */
export interface ObjectsDefinition<T extends ObjectTypes, P extends string, B extends RecordTypes = Record<never, never>> {
  readonly layout: ObjectsLayout<P, B>;
  /** Load the object (path, file URL or bytes) with typed constants and program names. */
  load(source: string | URL | Uint8Array, opts?: TypedLoadOptions<SectionConstants<T>, P>): LoadedObjects<MapsOf<T, B>, P, RecordsOf<B>>;
  /** Typed access to a collection loaded some other way (it stays owned by whoever loaded it, unless the result is closed). */
  of(collection: Collection): LoadedObjects<MapsOf<T, B>, P, RecordsOf<B>>;
}

/** The loaded object of a generated definition: `type ToolObjects = LoadedOf<typeof ToolObjects>`. */
export type LoadedOf<D> = D extends ObjectsDefinition<infer T, infer P, infer B> ? LoadedObjects<MapsOf<T, B>, P, RecordsOf<B>> : never;
/** Its program names: `ProgramOf<typeof ToolObjects>[]`. */
export type ProgramOf<D> = D extends { readonly layout: { readonly programs: readonly (infer P)[] } } ? P : never;
/** Its `load()` constants: `LoadConstantsOf<typeof ToolObjects>`. */
export type LoadConstantsOf<D> = D extends ObjectsDefinition<infer T, infer _P, infer _B> ? SectionConstants<T> : never;

/**
 * What the codecs' encode() accepts for a value they decode as `T` (src/gen/ts-types.ts's 'input'
 * mode): 64-bit integers also as numbers, char arrays also as bytes, structs partially.
 */
export type InputOf<T> = T extends bigint ? number | bigint : T extends string ? string | Uint8Array : T extends readonly (infer E)[] ? readonly InputOf<E>[] : T extends object ? Partial<T> : T;

/**
 * The `constants` of a generated loader from the section types it declares anyway (`<Name>Rodata`):
 * every variable optional, undefined keeping the object's own value.
 */
export type ConstantsOf<T> = { [K in keyof T]?: InputOf<T[K]> | undefined };

/** Collection.load's constants from typed ones: undefined values keep the object's default. */
export function constantsOf(c: object | undefined): Record<string, ConstantValue> {
  const out: Record<string, ConstantValue> = {};
  // arrays and structs are encoded by the variable's own BTF codec
  for (const [k, v] of Object.entries(c ?? {})) if (v !== undefined) out[k] = v as ConstantValue;
  return out;
}

/**
 * Property of `maps` → the map's name in the object, in the object's order: a map by its name, a data
 * section's by the section's (`.rodata` → `rodata`, `.data.custom` → `data_custom`). src/gen/objects.ts
 * types them the same way (test/gen/typed.test.ts checks the two agree).
 */
export function mapProperties(maps: readonly Pick<MapSpec, 'name' | 'section' | 'origin'>[]): [prop: string, name: string][] {
  const out: [string, string][] = [];
  const props = new Set<string>();
  for (const m of maps) {
    const section = m.section.startsWith('.') && m.origin !== 'btf' && m.origin !== 'legacy';
    const base = (section ? m.section.slice(1) : m.name).replace(/[^A-Za-z0-9_$]/g, '_').replace(/^([0-9])/, '_$1');
    let prop = base;
    for (let i = 2; props.has(prop); i++) prop = `${base}_${i}`;
    props.add(prop);
    out.push([prop, section ? m.section : m.name]);
  }
  return out;
}

/**
 * The typed loader of one object (called by generated code): the types first, the program names
 * inferred from the layout, so the generated file writes each once.
 */
export function defineObjects<T extends ObjectTypes = Record<never, never>>(): <P extends string, B extends RecordTypes = Record<never, never>>(layout: ObjectsLayout<P, B>) => ObjectsDefinition<T, P, B> {
  return <P extends string, B extends RecordTypes = Record<never, never>>(layout: ObjectsLayout<P, B>): ObjectsDefinition<T, P, B> => ({
    layout,
    load(source, opts = {}) {
      const { constants, programs, ...rest } = opts;
      const o: CollectionOptions = { ...rest, constants: constantsOf(constants ?? undefined) };
      if (programs) o.programs = programs;
      return new LoadedObjects<MapsOf<T, B>, P, RecordsOf<B>>(Collection.load(source, o), layout);
    },
    of(collection) {
      return new LoadedObjects<MapsOf<T, B>, P, RecordsOf<B>>(collection, layout);
    },
  });
}
