// The lowered form of a filter: boolean predicates over 32-bit unsigned values read from the packet.
// lower.ts produces it from the AST with libpcap's meaning; codegen.ts turns it into eBPF.

/** Where a packet load's offset counts from. */
export type Base =
  | 'link' // start of the frame (Ethernet header)
  | 'net' // start of the link-layer payload: 14 + VLAN tags seen so far
  | 'ip4-payload' // after the IPv4 header: net + 4 * IHL
  | 'ip6-payload'; // after the fixed IPv6 header: net + 40

export type BinOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';

export type Val =
  | { k: 'const'; v: number }
  | { k: 'len' }
  /** skb->pkt_type (PACKET_HOST 0 … PACKET_OUTGOING 4): live captures only */
  | { k: 'pkttype' }
  | { k: 'load'; base: Base; off: Val; size: 1 | 2 | 4; vlanShift: number }
  | { k: 'bin'; op: BinOp; a: Val; b: Val }
  | { k: 'neg'; a: Val };

/** Comparison; 'set' is `(a & b) != 0`. All comparisons are unsigned 32-bit, as in classic BPF. */
export type CmpOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'set';

export type Pred =
  | { k: 'true' }
  | { k: 'false' }
  | { k: 'and' | 'or'; a: Pred; b: Pred }
  | { k: 'not'; a: Pred }
  | { k: 'cmp'; op: CmpOp; a: Val; b: Val }
  /**
   * An 802.1Q/802.1ad tag test (`vlan [id]`): `inline` tests the tag in the packet bytes. On a live
   * socket the kernel may have moved the first tag into skb metadata (vlan_present/vlan_tci), so
   * codegen in live mode tests that first, as libpcap does on Linux.
   */
  | { k: 'vlan'; id?: number; first: boolean; inline: Pred };

export const TRUE: Pred = { k: 'true' };
export const FALSE: Pred = { k: 'false' };
export const num = (v: number): Val => ({ k: 'const', v: v >>> 0 });
export const and = (a: Pred, b: Pred): Pred => ({ k: 'and', a, b });
export const or = (a: Pred, b: Pred): Pred => ({ k: 'or', a, b });
export const not = (a: Pred): Pred => ({ k: 'not', a });
export const cmp = (a: Val, op: CmpOp, b: number | Val): Pred => ({ k: 'cmp', op, a, b: typeof b === 'number' ? num(b) : b });
export const anyOf = (ps: Pred[]): Pred => ps.reduce((x, y) => or(x, y));
export const allOf = (ps: Pred[]): Pred => ps.reduce((x, y) => and(x, y));
