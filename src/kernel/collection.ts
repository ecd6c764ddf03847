// A loaded object: the maps and programs of one CollectionSpec, created in the kernel and owned here.
// Collection.load() is what libbpf's bpf_object__open_file + bpf_object__load do; attach() what
// bpf_program__attach does for every program whose SEC() says where it goes.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Btf } from '../btf/btf.js';
import { compileCodec, type Codec } from '../btf/codec.js';
import { BtfKind } from '../btf/types.js';
import { findTypeId } from '../btf/type-name.js';
import { applyMapReferences } from '../isa/relocation.js';
import { attachBtfName, knownSections } from '../object/sections.js';
import { objectName } from '../object/names.js';
import { parseObject } from '../object/load-spec.js';
import { resolveExterns } from '../object/externs.js';
import { applyCoReResults, resolveCoRe, POISON_IMM } from '../object/core.js';
import { objectDigest, readCoreCache, writeCoreCache } from './core-cache.js';
import { btfForKernel, kernelBtf } from '../object/btf-fixup.js';
import { resolveKsyms } from '../object/ksyms.js';
import { mapValueTypes } from '../object/map-types.js';
import { kallsymsAddress } from './kallsyms.js';
import type { CollectionSpec, MapSpec, ProgramSpec } from '../object/spec.js';
import { ProgFlags, btfLoad, objGet } from '../sys/bpf.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { SyscallError, VerifierError } from '../sys/errors.js';
import { ensureBpffs } from '../sys/mounts.js';
import { possibleCpuCount } from '../sys/cpus.js';
import { kernelBtfId, vmlinuxBtf } from './vmlinux.js';
import { MapType } from '../uapi/bpf.js';
import { BpfMap } from '../maps/map.js';
import { u32 } from '../maps/codec.js';
import { RingBuffer } from '../maps/ringbuf.js';
import { PerfBuffer } from '../maps/perfbuf.js';
import type { Link } from '../link/link.js';
import { kernelConfig, kernelVersionCode } from './kconfig.js';
import { Program } from './program.js';
import { attachProgram, type AttachOptions } from './attach.js';
import { lineSourceOf } from './line-source.js';
import { mark } from './timing.js';

export type ConstantValue = number | bigint | boolean | string;

export interface CollectionOptions {
  /** Values of `const volatile` globals (.rodata) — or any global — set before load, by variable name. */
  constants?: Record<string, ConstantValue>;
  /** Load only these programs (by name); the default is every program of the object. */
  programs?: readonly string[];
  /** Directory for maps pinned by name (LIBBPF_PIN_BY_NAME, and `pinMaps`); default /sys/fs/bpf. */
  pinPath?: string;
  /**
   * Maps to pin by name under pinPath as if the object said LIBBPF_PIN_BY_NAME (libbpf's
   * bpf_map__set_pin_path): an existing pin of the same shape is reused, so a reloaded object goes
   * on counting where the last one stopped.
   */
  pinMaps?: readonly string[];
  /** Kernel BTF to resolve CO-RE relocations and attach targets against; default /sys/kernel/btf/vmlinux. */
  targetBtf?: Btf;
  /** Verifier log level for successful loads too (the log is then in program.verifierLog). */
  logLevel?: number;
  /** Object name (for internal map names); default: the file name up to its first '.'. */
  name?: string;
}

/** What a ring buffer or perf buffer record decodes to: a BTF type of the object, by name. */
export interface BufferOptions {
  /** `struct event`, `event`, or a type id; default: raw bytes */
  type?: string | number;
  /** ends the buffer's events(), batches() and consume() loops that are not given a signal of their own */
  signal?: AbortSignal;
}

/** A record decoded through BTF without a declared type: its members by name (`tsbpf gen types` declares them). */
export type DecodedRecord = Record<string, any>;

export interface RingBufferLoadOptions extends BufferOptions {
  /** where the program counts records it could not reserve (see RingBufferOptions.lost) */
  lost?: BpfMap<any, any> | (() => number);
}

export interface PerfBufferLoadOptions extends BufferOptions {
  /** data pages per CPU, a power of two (default 8) */
  pages?: number;
}

export class CollectionError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'CollectionError';
  }
}

function readSource(source: string | URL | Uint8Array): { bytes: Uint8Array; file?: string } {
  if (source instanceof Uint8Array) return { bytes: source };
  const file = source instanceof URL ? fileURLToPath(source) : source;
  try {
    return { bytes: new Uint8Array(readFileSync(file)), file };
  } catch (e) {
    throw new CollectionError(`cannot read object ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Digests of the objects Collection.load parsed (the CO-RE cache's key). */
const digests = new WeakMap<CollectionSpec, string>();

export class Collection {
  readonly programs = new Map<string, Program>();
  readonly maps = new Map<string, BpfMap<any, any>>();
  readonly links: Link[] = [];
  private readonly buffers: Array<{ close(): void }> = [];
  private closed = false;

  private constructor(readonly spec: CollectionSpec, readonly btfFd: Fd | undefined, private readonly types: Btf | undefined) {}

  /** Open an ELF object (path, file URL or bytes), create its maps and load its programs. */
  static load(source: string | URL | Uint8Array, opts: CollectionOptions = {}): Collection {
    const { bytes, file } = readSource(source);
    mark('read object');
    const spec = parseObject(bytes, opts.name ?? objectName(file ? basename(file) : 'obj'));
    // the object's digest keys the CO-RE cache (only for the running kernel's BTF)
    if (!opts.targetBtf && spec.programs.some((p) => p.coreRelos.length > 0)) digests.set(spec, objectDigest(bytes));
    mark('parse object');
    return Collection.fromSpec(spec, opts);
  }

  /** Load an already parsed spec (it is modified: externs, constants and CO-RE are applied to it). */
  static fromSpec(spec: CollectionSpec, opts: CollectionOptions = {}): Collection {
    const wanted = opts.programs ? new Set(opts.programs) : undefined;
    if (wanted) {
      for (const n of wanted) if (!spec.programs.some((p) => p.name === n)) throw new CollectionError(`no program '${n}' in object ${spec.name}`, `programs: ${spec.programs.map((p) => p.name).join(', ')}`);
    }
    // As libbpf: SEC("?...") programs load only when asked for by name.
    const programs = spec.programs.filter((p) => (wanted ? wanted.has(p.name) : p.autoload));
    for (const p of programs) {
      if (p.attach.kind === 'unknown') throw new CollectionError(`program ${p.name}: SEC("${p.section}") is not a section name libbpf knows`, `use one of: ${knownSections().slice(0, 12).join(', ')}, ...`);
    }
    if (spec.externs.length) resolveExterns(spec, { kconfig: kernelConfig(), kernelVersion: kernelVersionCode() });
    if (opts.constants) setConstants(spec, opts.constants);
    // The kernel's BTF only when something needs it: CO-RE without a cached resolution, attach
    // targets by BTF id, ksyms.
    let target = opts.targetBtf;
    const kernelTarget = (): Btf => {
      if (!target) (target = vmlinuxBtf()), mark('kernel BTF');
      return target;
    };
    if (programs.some((p) => p.coreRelos.length > 0)) {
      const digest = digests.get(spec);
      let results = digest !== undefined && !opts.targetBtf ? readCoreCache(spec, digest) : undefined;
      if (!results) {
        results = resolveCoRe(spec, kernelTarget());
        if (digest !== undefined && !opts.targetBtf) writeCoreCache(digest, results);
      }
      applyCoReResults(spec, results);
      mark('CO-RE');
    }
    if (programs.some((p) => p.attachBtf || p.ksymRefs.length > 0)) kernelTarget();
    if (programs.some((p) => p.ksymRefs.length > 0)) resolveKsyms(spec, kernelTarget(), { kallsyms: kallsymsAddress });

    let btfFd: Fd | undefined;
    // The object's BTF with DATASEC sizes and offsets filled in: what the kernel gets, and what
    // decodes global data.
    const fixed = spec.btf ? kernelBtf(spec).build() : undefined;
    mark('object BTF fix-up');
    if (fixed) {
      try {
        const kbytes = btfForKernel(spec, fixed);
        mark('object BTF marshal');
        btfFd = btfLoad(kbytes);
      } catch {
        // As libbpf does: an object whose BTF the kernel refuses still loads, without BTF-typed maps
        // and without func/line info.
        btfFd = undefined;
      }
    }
    mark('object BTF load');
    const c = new Collection(spec, btfFd, fixed);
    try {
      for (const m of spec.maps) c.maps.set(m.name, c.createMap(m, opts)), mark(`map ${m.name}`);
      for (const p of programs) c.programs.set(p.name, c.loadProgram(p, target, opts)), mark(`program ${p.name}`);
      c.fillInitialSlots();
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** The program called `name` (throws with the list of names if there is none). */
  program(name: string): Program {
    const p = this.programs.get(name);
    if (!p) throw new CollectionError(`no program '${name}' loaded from ${this.spec.name}`, `loaded: ${[...this.programs.keys()].join(', ') || 'none'}`);
    return p;
  }

  /** The map called `name`: its name in the object (`events`, `.rodata`) or in the kernel (`tcpconne.rodata`). */
  map<K = any, V = any>(name: string): BpfMap<K, V> {
    const m = this.maps.get(name) ?? this.maps.get(this.spec.maps.find((s) => s.section === name)?.name ?? '');
    if (!m) throw new CollectionError(`no map '${name}' in ${this.spec.name}`, `maps: ${[...this.maps.keys()].join(', ')}`);
    return m as BpfMap<K, V>;
  }

  programSpec(name: string): ProgramSpec {
    const s = this.spec.programs.find((p) => p.name === name);
    if (!s) throw new CollectionError(`no program '${name}' in ${this.spec.name}`);
    return s;
  }

  /**
   * Attach the program `name` (or every loaded program whose SEC() names a target) where its SEC()
   * says. The links are owned by the collection and closed with it.
   */
  attach(name?: string, opts: AttachOptions = {}): Link[] {
    if (name) {
      const link = this.tryAttach(name, opts);
      if (!link) throw new CollectionError(`program '${name}' (SEC("${this.programSpec(name).section}")) does not say where to attach`, 'attach it explicitly with the link API (attachXdp, attachTcx, attachSocketFilter, ...)');
      return [link];
    }
    return [...this.programs.keys()].map((n) => this.tryAttach(n, opts)).filter((l): l is Link => l !== undefined);
  }

  /** Attach `name` where its SEC() says; undefined when the SEC() names no target (xdp, tc, socket...). */
  tryAttach(name: string, opts: AttachOptions = {}): Link | undefined {
    const link = attachProgram(this.program(name), this.programSpec(name), opts);
    if (link) this.links.push(link), mark(`attach ${name}`);
    return link;
  }

  /** A BTF codec for a type of this object's BTF, by name (`struct event`, `event`) or id. */
  codec<T = any>(type: string | number): Codec<T> {
    const btf = this.types;
    if (!btf) throw new CollectionError(`object ${this.spec.name} has no BTF to decode '${type}' with`, 'compile with -g');
    return compileCodec<T>(btf, typeof type === 'number' ? type : typeIdByName(btf, type));
  }

  /**
   * Records of the ring buffer map `name`: raw bytes, or, with `opts.type` (a type of the object's
   * BTF), objects decoded through it. `tsbpf gen types` declares the record types of an object (and
   * a typed loader whose ringBuffer() needs no type argument).
   */
  ringBuffer(name: string, opts?: RingBufferLoadOptions & { type?: undefined }): RingBuffer<Uint8Array>;
  ringBuffer<T = DecodedRecord>(name: string, opts: RingBufferLoadOptions & { type: string | number }): RingBuffer<T>;
  ringBuffer(name: string, opts?: RingBufferLoadOptions): RingBuffer<Uint8Array | DecodedRecord>;
  ringBuffer(name: string, opts: RingBufferLoadOptions = {}): RingBuffer<unknown> {
    return this.own(new RingBuffer<unknown>(this.map(name), { decode: this.decoder(opts.type), lost: opts.lost, signal: opts.signal }));
  }

  /** Records of the perf event array map `name`: raw bytes, or decoded as `opts.type` (see ringBuffer). */
  perfBuffer(name: string, opts?: PerfBufferLoadOptions & { type?: undefined }): PerfBuffer<Uint8Array>;
  perfBuffer<T = DecodedRecord>(name: string, opts: PerfBufferLoadOptions & { type: string | number }): PerfBuffer<T>;
  perfBuffer(name: string, opts?: PerfBufferLoadOptions): PerfBuffer<Uint8Array | DecodedRecord>;
  perfBuffer(name: string, opts: PerfBufferLoadOptions = {}): PerfBuffer<unknown> {
    return this.own(new PerfBuffer<unknown>(this.map(name), { decode: this.decoder(opts.type), pages: opts.pages, signal: opts.signal }));
  }

  /** The record decoder of a ring or perf buffer: none (raw bytes) unless a type is named. */
  private decoder(type: string | number | undefined): Codec<unknown> | undefined {
    return type !== undefined ? this.codec(type) : undefined;
  }

  /** A buffer this collection closes with itself. */
  private own<B extends { close(): void }>(b: B): B {
    this.buffers.push(b);
    return b;
  }

  /** Detach every link, close every buffer, map and program (pinned objects stay in bpffs). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links.splice(0).reverse()) l.close();
    for (const b of this.buffers.splice(0)) b.close();
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
    if (this.btfFd !== undefined) closeFd(this.btfFd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private createMap(m: MapSpec, opts: CollectionOptions): BpfMap<any, any> {
    if (m.pinning || opts.pinMaps?.includes(m.name)) {
      const path = `${opts.pinPath ?? ensureBpffs()}/${m.name}`;
      let pinned: BpfMap | undefined;
      try {
        pinned = BpfMap.fromFd(objGet(path));
      } catch (e) {
        if (!(e instanceof SyscallError) || e.code !== 'ENOENT') throw e;
      }
      if (pinned) {
        // as libbpf's map_is_reuse_compat: a pin of another shape is another map, not ours to reuse
        const want = { type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags };
        const have = { type: pinned.type, keySize: pinned.keySize, valueSize: pinned.valueSize, maxEntries: pinned.maxEntries, flags: pinned.flags };
        if (Object.entries(want).some(([k, v]) => have[k as keyof typeof have] !== v)) {
          pinned.close();
          throw new CollectionError(`map ${m.name}: the map pinned at ${path} has another shape (${JSON.stringify(have)}, the object wants ${JSON.stringify(want)})`, `remove the pin (rm ${path}) to start a new map`);
        }
        return this.withCodecs(pinned, m);
      }
      const created = this.newMap(m);
      created.pin(path);
      return created;
    }
    return this.newMap(m);
  }

  private newMap(m: MapSpec): BpfMap<any, any> {
    let inner: BpfMap | undefined;
    if (m.innerMap) inner = this.newMap(m.innerMap);
    const maxEntries = m.type === MapType.PERF_EVENT_ARRAY && m.maxEntries === 0 ? possibleCpuCount() : m.maxEntries;
    const withBtf = this.btfFd !== undefined && (m.btfKeyTypeId || m.btfValueTypeId);
    let map: BpfMap;
    try {
      map = BpfMap.create({
        type: m.type,
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries,
        name: m.name,
        flags: m.flags,
        numaNode: m.numaNode,
        mapExtra: m.mapExtra,
        innerMapFd: inner?.fd,
        btfFd: withBtf ? this.btfFd : undefined,
        btfKeyTypeId: withBtf ? m.btfKeyTypeId : undefined,
        btfValueTypeId: withBtf ? m.btfValueTypeId : undefined,
      });
    } finally {
      inner?.close(); // the kernel keeps what it needs of the inner map's template
    }
    try {
      if (m.contents) {
        map.update(new Uint8Array(4), m.contents);
        if (m.frozen) map.freeze();
      }
    } catch (e) {
      map.close();
      throw e;
    }
    return this.withCodecs(map, m);
  }

  /** BTF-typed keys and values where the object's BTF describes them (global data: u32 key, DATASEC value). */
  private withCodecs(map: BpfMap, m: MapSpec): BpfMap<any, any> {
    const btf = this.types;
    const t = mapValueTypes(btf, m);
    if (!btf || !t) return map; // raw bytes
    return map.as(t.key === 'u32' ? u32 : compileCodec(btf, t.key), compileCodec(btf, t.value));
  }

  private loadProgram(p: ProgramSpec, target: Btf | undefined, opts: CollectionOptions): Program {
    const missing = p.mapRefs.find((r) => !this.maps.has(r.map));
    if (missing) throw new CollectionError(`program ${p.name} refers to map '${missing.map}', which the object does not define`);
    const insns = applyMapReferences(p.instructions, p.mapRefs, (name) => this.maps.get(name)!.fd);
    let attachBtfId: number | undefined;
    if (p.attachBtf) {
      const { name, kind } = attachBtfName(p.attach);
      attachBtfId = kernelBtfId(name, kind === 'func' ? BtfKind.FUNC : BtfKind.TYPEDEF);
    }
    const lineSource = lineSourceOf(p);
    const hasBtf = this.btfFd !== undefined;
    try {
      return Program.load({
        type: p.type,
        instructions: insns,
        license: p.license || this.spec.license,
        name: p.name,
        expectedAttachType: p.expectedAttachType,
        attachBtfId,
        btfFd: hasBtf ? this.btfFd : undefined,
        funcInfo: hasBtf && p.funcInfo.length ? p.funcInfo : undefined,
        lineInfo: hasBtf && p.lineInfo.length ? p.lineInfo : undefined,
        kernelVersion: p.kernelVersion || kernelVersionCode(),
        flags: (p.sleepable ? ProgFlags.SLEEPABLE : 0) | (p.xdpFrags ? ProgFlags.XDP_HAS_FRAGS : 0),
        logLevel: opts.logLevel,
        lineSource,
      });
    } catch (e) {
      if (e instanceof VerifierError) e.program ??= p.name;
      throw explainPoison(e, p) ?? e;
    }
  }

  /** `__array(values, ...)` initialisers: programs into prog arrays, maps into maps of maps. */
  private fillInitialSlots(): void {
    for (const m of this.spec.maps) {
      if (!m.initSlots.length) continue;
      const map = this.maps.get(m.name)!;
      const raw = map.as(u32, u32);
      for (const s of m.initSlots) {
        const fd = m.type === MapType.PROG_ARRAY ? this.programs.get(s.value)?.fd : this.maps.get(s.value)?.fd;
        if (fd === undefined) continue; // a program not loaded (autoload off) leaves its slot empty
        raw.set(s.index, fd);
      }
    }
  }
}

/** A type id of `btf` by C-ish name: `struct event`, `union u`, `enum e`, or a bare name. */
export function typeIdByName(btf: Btf, name: string): number {
  const id = findTypeId(btf, name);
  if (id === undefined) throw new CollectionError(`no type '${name}' in the object's BTF`);
  return id;
}

/** Set globals by name before load: the variable's BTF type encodes the value into its section's data. */
function setConstants(spec: CollectionSpec, constants: Record<string, ConstantValue>): void {
  const btf = spec.btf;
  if (!btf) throw new CollectionError(`object ${spec.name} has no BTF: cannot set globals by name`, 'compile with -g');
  for (const [name, value] of Object.entries(constants)) {
    let done = false;
    for (const m of spec.maps) {
      if (!m.contents || !['rodata', 'data', 'bss'].includes(m.origin)) continue;
      const sec = btf.findByName(m.section, BtfKind.DATASEC);
      if (!sec || sec.kind !== BtfKind.DATASEC) continue;
      const offset = spec.dataSections.get(m.section)?.symbols.get(name);
      const v = sec.vars.map((s) => ({ s, t: btf.typeById(s.type) })).find(({ t }) => t.name === name);
      if (!v || v.t.kind !== BtfKind.VAR) continue;
      const codec = compileCodec(btf, v.t.type);
      const at = offset ?? v.s.offset;
      const coerced = coerce(value, codec.size);
      codec.encode(coerced, new DataView(m.contents.buffer, m.contents.byteOffset, m.contents.byteLength), at);
      done = true;
      break;
    }
    if (!done) throw new CollectionError(`no global variable '${name}' in object ${spec.name}`, 'declare it as `const volatile <type> name = <default>;`');
  }
}

function coerce(value: ConstantValue, size: number): unknown {
  if (typeof value === 'boolean') return size === 8 ? BigInt(value ? 1 : 0) : value ? 1 : 0;
  if (typeof value === 'number' && size === 8) return BigInt(value);
  return value;
}

/** A verifier rejection at a poisoned CO-RE instruction becomes "field X of struct Y does not exist". */
function explainPoison(e: unknown, p: ProgramSpec): Error | undefined {
  if (!(e instanceof VerifierError) || !p.poisoned.length) return undefined;
  const slot = e.instruction;
  const hit = p.poisoned.find((x) => x.slot === slot) ?? (e.log.includes(`#${POISON_IMM}`) ? p.poisoned[0] : undefined);
  if (!hit) return undefined;
  const err = new CollectionError(`program ${p.name}: CO-RE relocation failed at instruction ${hit.slot}: ${hit.reason}`, 'the kernel lacks the type or field this program reads; guard the access with bpf_core_field_exists()');
  (err as Error & { log?: string }).log = e.log;
  return err;
}
