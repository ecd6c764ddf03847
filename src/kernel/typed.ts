// The typed loader that `tsbpf gen types` declares for an object: the counterpart of bpf2go's
// objects struct and of libbpf's skeleton. The generated file holds only types and a layout (which
// map each property is, the programs, each buffer's record type); this is the code behind it, so a
// generated file stays small and every object is loaded the same way.
//
//   import { TcpconnectObjects } from './tcpconnect.gen.js';
//   using objs = TcpconnectObjects.load('tcpconnect.bpf.o', { constants: { targ_pid: 42 } });
//   objs.maps.ipv4_count.get({ saddr: 0, daddr: 0, dport: 80, pad: 0 });   // BpfMap<Ipv4FlowKey, bigint>
//   objs.programs.kprobe_tcp_v4_connect.id;
//   for await (const e of objs.ringBuffer('events')) e.pid;                 // RingBuffer<Event>
import { Collection, type CollectionOptions, type ConstantValue, type RingBufferLoadOptions, type PerfBufferLoadOptions } from './collection.js';
import type { Program } from './program.js';
import type { RingBuffer } from '../maps/ringbuf.js';
import type { PerfBuffer } from '../maps/perfbuf.js';
import type { Link } from '../link/link.js';
import type { AttachOptions } from './attach.js';

export type { BpfMap } from '../maps/map.js';

/** What the generated file says about its object. */
export interface ObjectsLayout<P extends string> {
  /** property of `maps` → the map's name in the object (`counts`, `.rodata`) */
  readonly maps: Readonly<Record<string, string>>;
  /** every program of the object */
  readonly programs: readonly P[];
  /** ring/perf buffer map → the BTF type its records decode as (absent: raw bytes) */
  readonly records: Readonly<Record<string, string>>;
}

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
    private readonly layout: ObjectsLayout<P>,
  ) {
    const maps = {} as Record<string, unknown>;
    for (const [prop, name] of Object.entries(layout.maps)) Object.defineProperty(maps, prop, { enumerable: true, get: () => collection.map(name) });
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
    const type = this.layout.records[name];
    return (type === undefined ? this.collection.ringBuffer(name, opts) : this.collection.ringBuffer(name, { ...opts, type })) as RingBuffer<R[N]>;
  }

  /** The records of perf event array `name`, decoded as the generated record type. */
  perfBuffer<N extends keyof R & string>(name: N, opts: Omit<PerfBufferLoadOptions, 'type'> = {}): PerfBuffer<R[N]> {
    const type = this.layout.records[name];
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
export interface ObjectsDefinition<M, P extends string, C, R> {
  readonly layout: ObjectsLayout<P>;
  /** Load the object (path, file URL or bytes) with typed constants and program names. */
  load(source: string | URL | Uint8Array, opts?: TypedLoadOptions<C, P>): LoadedObjects<M, P, R>;
  /** Typed access to a collection loaded some other way (it stays owned by whoever loaded it, unless the result is closed). */
  of(collection: Collection): LoadedObjects<M, P, R>;
}

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

/** The typed loader of one object (called by generated code). */
export function defineObjects<M, P extends string, C, R>(layout: ObjectsLayout<P>): ObjectsDefinition<M, P, C, R> {
  return {
    layout,
    load(source, opts = {}) {
      const { constants, programs, ...rest } = opts;
      const o: CollectionOptions = { ...rest, constants: constantsOf(constants ?? undefined) };
      if (programs) o.programs = programs;
      return new LoadedObjects<M, P, R>(Collection.load(source, o), layout);
    },
    of(collection) {
      return new LoadedObjects<M, P, R>(collection, layout);
    },
  };
}
