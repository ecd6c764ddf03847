// Types by the name a C programmer gives them: `struct event`, `union u`, `enum e`, or a bare name.
import type { Btf } from './btf.js';
import { BtfKind } from './types.js';

/** The id of the type `name` names in `btf`, or undefined. A bare name is looked up as a struct, typedef, union, int, then enum. */
export function findTypeId(btf: Btf, name: string): number | undefined {
  const m = /^(struct|union|enum)\s+(\S+)$/.exec(name.trim());
  const kinds = m ? { struct: [BtfKind.STRUCT], union: [BtfKind.UNION], enum: [BtfKind.ENUM, BtfKind.ENUM64] }[m[1] as 'struct'] : undefined;
  const bare = m ? m[2]! : name.trim();
  for (const k of kinds ?? [BtfKind.STRUCT, BtfKind.TYPEDEF, BtfKind.UNION, BtfKind.INT, BtfKind.ENUM]) {
    const t = btf.findByName(bare, k);
    if (t) return t.id;
  }
  return undefined;
}
