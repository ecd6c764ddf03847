// Loading a tool's committed object with its .rodata filters set and only the programs of one hook
// variant, through the object loader (src/kernel/collection.ts).
import { Collection, type ConstantValue } from '../../kernel/collection.js';
import type { Link } from '../../link/link.js';
import { toolObjectPath } from './object.js';
import { constantsOf } from '../../kernel/typed.js';

export interface ToolLoadOptions {
  /** .rodata values (`const volatile` globals) set before load: the in-kernel filters; undefined keeps the default (typed by the tool's generated object: LoadConstantsOf<typeof ToolObjects>) */
  constants?: Readonly<Record<string, unknown>>;
  /** autoload only these programs (one hook variant) */
  programs?: string[];
  /** aggregation maps kept pinned (a long-running agent's counts outlive the process) */
  pin?: MapPins;
}

/** Maps pinned by name under `dir`; an existing pin of the same shape is reused. */
export interface MapPins {
  dir: string;
  maps: string[];
}


/**
 * Loads src/tools/<tool>/<tool>.bpf.o with filters set and only the chosen programs. (A verifier
 * interrupted by a signal, EAGAIN, is retried where the program is loaded: src/sys/bpf.ts.)
 */
export async function loadTool(tool: string, opts: ToolLoadOptions = {}): Promise<Collection> {
  const o: { constants: Record<string, ConstantValue>; programs?: string[]; pinPath?: string; pinMaps?: string[] } = { constants: constantsOf(opts.constants) };
  if (opts.programs) o.programs = opts.programs;
  if (opts.pin) (o.pinPath = opts.pin.dir), (o.pinMaps = opts.pin.maps);
  return Collection.load(toolObjectPath(tool), o);
}

/** Attaches every named program where its SEC() says; the links belong to the collection. */
export function attachAll(coll: Collection, names: string[]): Link[] {
  return names.flatMap((n) => coll.attach(n));
}

export type { Collection };

/** Kernel ids of the programs and maps a collection holds (tests check they are gone after close). */
export function kernelIds(coll: Collection): { programs: number[]; maps: number[] } {
  return { programs: [...coll.programs.values()].map((p) => p.id), maps: [...coll.maps.values()].map((m) => m.id) };
}
