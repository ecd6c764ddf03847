// BPF helper functions by id and by the kernel's name (bpf_map_lookup_elem = 1, ...): the generated
// enum bpf_func_id (BpfFunc in src/uapi/bpf.ts) is the one registry; this is its lookup by name.
import { BpfFunc, type HelperName } from '../uapi/bpf.js';

export { BpfFunc, type HelperName };

const byId = new Map<number, string>();
const byName = new Map<string, number>();
for (const [name, id] of Object.entries(BpfFunc)) {
  if (typeof id !== 'number' || id === 0) continue; // BPF_FUNC_unspec is not a helper; skip the enum's reverse entries
  byId.set(id, `bpf_${name}`);
  byName.set(`bpf_${name}`, id);
}

/** The kernel's name of helper `id` ("bpf_map_lookup_elem"), or undefined for an unknown id. */
export const helperName = (id: number): string | undefined => byId.get(id);

/** The id of a helper by name, with or without the "bpf_" prefix; undefined if unknown. */
export const helperId = (name: string): number | undefined => byName.get(name.startsWith('bpf_') ? name : `bpf_${name}`);

/** Highest helper id this build knows (__BPF_FUNC_MAX_ID - 1). */
export const MAX_HELPER_ID = Math.max(...byId.keys());
