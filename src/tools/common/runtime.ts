// The slice of the kernel object loader (src/kernel/collection.ts) the tools use, and the loading
// of a tool's committed object with its .rodata filters and the programs of one hook variant.
import { toolObjectPath } from './object.js';

export type Constant = number | bigint | string | boolean | number[];

export interface ToolLoadOptions {
  /** .rodata values (`const volatile` globals) set before load: the in-kernel filters */
  constants?: Record<string, Constant | undefined>;
  /** autoload only these programs (one hook variant) */
  programs?: string[];
}

export interface ToolMap {
  entries(): Iterable<[any, any]>;
  get(key: any): any;
}

export interface ToolRingBuffer<T> extends AsyncIterable<T> {
  events(opts?: { signal?: AbortSignal }): AsyncIterableIterator<T>;
  read?(max?: number): T[];
  readonly lost: number;
  close(): void;
}

export interface ToolLink {
  close(): void;
}

export interface ToolProgram {
  readonly fd: number;
  attach(opts?: Record<string, unknown>): ToolLink | Promise<ToolLink>;
}

export interface ToolCollection {
  program(name: string): ToolProgram;
  map(name: string): ToolMap;
  ringBuffer<T = Record<string, unknown>>(map: string, opts?: { type?: string; lost?: unknown }): ToolRingBuffer<T>;
  attach(name?: string): unknown;
  close(): void;
}

function cleanConstants(c: ToolLoadOptions['constants']): Record<string, Constant> {
  const out: Record<string, Constant> = {};
  for (const [k, v] of Object.entries(c ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

/** Loads src/tools/<tool>/<tool>.bpf.o with filters set and only the chosen programs. */
export async function loadTool(tool: string, opts: ToolLoadOptions = {}): Promise<ToolCollection> {
  const spec = '../../kernel/collection.js';
  const mod = (await import(spec)) as { Collection: { load(p: string, o: object): Promise<ToolCollection> } };
  const o: { constants: Record<string, Constant>; programs?: string[] } = { constants: cleanConstants(opts.constants) };
  if (opts.programs) o.programs = opts.programs;
  return mod.Collection.load(toolObjectPath(tool), o);
}

/** Attaches every named program; on a failure detaches the ones already attached and rethrows. */
export async function attachAll(coll: ToolCollection, names: string[], opts?: Record<string, unknown>): Promise<ToolLink[]> {
  const links: ToolLink[] = [];
  try {
    for (const n of names) links.push(await coll.program(n).attach(opts));
  } catch (err) {
    for (const l of links) l.close();
    throw err;
  }
  return links;
}
