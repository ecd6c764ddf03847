// Create a userspace map from its spec.
import { MapType } from '../../uapi/bpf.js';
import type { VmMemory } from '../memory.js';
import { ArrayMap } from './array.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm-trie.js';
import { MapError, VmMap, type MapSpec } from './map.js';
import { ProgArrayMap } from './prog-array.js';
import { RingBufMap } from './ringbuf.js';

export function createMap(spec: MapSpec, mem: VmMemory, opts: { readonly?: boolean } = {}): VmMap {
  switch (spec.type) {
    case MapType.ARRAY:
    case MapType.PERCPU_ARRAY:
      return new ArrayMap(spec, mem, opts.readonly);
    case MapType.HASH:
    case MapType.PERCPU_HASH:
      return new HashMap(spec, mem, false);
    case MapType.LRU_HASH:
    case MapType.LRU_PERCPU_HASH:
      return new HashMap(spec, mem, true);
    case MapType.STACK_TRACE:
      // Never filled: bpf_get_stackid fails in the VM.
      return new HashMap(spec, mem, false);
    case MapType.LPM_TRIE:
      return new LpmTrieMap(spec, mem);
    case MapType.RINGBUF:
      return new RingBufMap(spec, mem);
    case MapType.PROG_ARRAY:
      return new ProgArrayMap(spec, mem);
  }
  throw new MapError(`${spec.name}: map type ${MapType[spec.type] ?? spec.type} is not supported by the VM`);
}

export { ArrayMap, HashMap, LpmTrieMap, MapError, ProgArrayMap, RingBufMap, VmMap, type MapSpec };
