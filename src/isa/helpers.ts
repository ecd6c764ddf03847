// BPF helper functions by id and by the kernel's name (bpf_map_lookup_elem = 1, ...): the generated
// enum bpf_func_id (BpfFunc in src/uapi/bpf.ts) is the one registry; this is its lookup by name.
import { BpfFunc, type HelperName } from '../uapi/bpf.js';

export { BpfFunc, type HelperName };

// built on first use (start-up: a script's compile asks nothing of it)
let tables: { byId: Map<number, string>; byName: Map<string, number> } | undefined;

function lookup(): NonNullable<typeof tables> {
  if (tables) return tables;
  const byId = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const [name, id] of Object.entries(BpfFunc)) {
    if (typeof id !== 'number' || id === 0) continue; // BPF_FUNC_unspec is not a helper; skip the enum's reverse entries
    byId.set(id, `bpf_${name}`);
    byName.set(`bpf_${name}`, id);
  }
  return (tables = { byId, byName });
}

/** The kernel's name of helper `id` ("bpf_map_lookup_elem"), or undefined for an unknown id. */
export const helperName = (id: number): string | undefined => lookup().byId.get(id);

/** The id of a helper by name, with or without the "bpf_" prefix; undefined if unknown. */
export function helperId(name: string): number | undefined {
  const bare = name.startsWith('bpf_') ? name.slice(4) : name;
  // the enum has reverse entries (1 → 'map_lookup_elem'): only names that map to numbers count
  const id = (BpfFunc as unknown as Record<string, unknown>)[bare];
  return typeof id === 'number' && id !== 0 ? id : undefined;
}

/** Highest helper id this build knows (__BPF_FUNC_MAX_ID - 1). */
export const maxHelperId = (): number => Math.max(...lookup().byId.keys());
