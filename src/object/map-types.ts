// Which BTF types a loaded map's keys and values go through. One rule for the loader (which puts
// codecs on the map) and for `tsbpf gen types` (which declares the TypeScript types of the same
// values), so a generated BpfMap<K, V> is what Collection.map() really returns.
import type { Btf } from '../btf/btf.js';
import { compileCodec } from '../btf/codec.js';
import type { MapSpec } from './spec.js';

export interface MapValueTypes {
  /** the key's BTF type id, or 'u32' for global data maps (a u32 index the object's BTF does not type) */
  key: number | 'u32';
  value: number;
}

/**
 * The key and value types of `m` in `btf` (the object's BTF with DATASEC sizes filled in), or
 * undefined when the map's values stay raw bytes: no BTF value type, a key of no BTF type that is not
 * a u32, or a type the codec cannot express.
 */
export function mapValueTypes(btf: Btf | undefined, m: MapSpec): MapValueTypes | undefined {
  if (!btf || !m.btfValueTypeId) return undefined;
  if (!m.btfKeyTypeId && m.keySize !== 4) return undefined;
  try {
    if (m.btfKeyTypeId) compileCodec(btf, m.btfKeyTypeId);
    compileCodec(btf, m.btfValueTypeId);
  } catch {
    return undefined;
  }
  return { key: m.btfKeyTypeId || 'u32', value: m.btfValueTypeId };
}
