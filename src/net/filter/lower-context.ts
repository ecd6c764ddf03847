// What every part of the lowering shares: the source (for positioned errors), the link layer and
// where its headers are at this point of the expression, live vs file, and run-time variables.
import { FilterSyntaxError } from './error.js';
import { bin, load, offVal, type Off, type Pred, type Val } from './ir.js';
import { LINK_NAMES, initialState, linkTypeTest, type LinkKind, type LinkState } from './link.js';

/** Stack slots a program may use in all (512 bytes of 8-byte slots), shared by variables and spills. */
export const MAX_SLOTS = 64;

export class LowerContext {
  /** where the headers are; encapsulations (vlan, mpls, pppoes, geneve) move it on in source order */
  st: LinkState;
  private vars = 0;
  private scratchVars: number[] = [];
  /** live captures: the run-time shift of VLAN tags found in the packet (not in skb metadata) */
  liveVlanVar: number | undefined;

  constructor(
    readonly src: string,
    readonly link: LinkKind,
    readonly live: boolean,
  ) {
    this.st = initialState(link);
  }

  get varCount(): number {
    return this.vars;
  }

  err(reason: string, pos: number, length = 1): FilterSyntaxError {
    return new FilterSyntaxError(reason, this.src, pos, length);
  }

  newVar(pos: number): number {
    if (this.vars >= MAX_SLOTS / 2) throw this.err('too many run-time offsets (vlan/geneve) in one filter', pos);
    return this.vars++;
  }

  /** `n` variables for a computation that needs them only while it runs (shared by all such). */
  scratch(n: number, pos: number): number[] {
    while (this.scratchVars.length < n) this.scratchVars.push(this.newVar(pos));
    return this.scratchVars.slice(0, n);
  }

  /** libpcap's description of the current link layer, for its error messages. */
  get linkName(): string {
    return LINK_NAMES[this.st.kind];
  }

  /** The frame carries EtherType (or LLC SAP) `p` at this point; errors are placed at `pos`. */
  linkType(p: number, pos: number): Pred {
    return linkTypeTest(this.st, p, (why) => {
      throw this.err(why, pos);
    });
  }

  /** Offset of the network-layer header (libpcap's OR_LINKPL). */
  get netOff(): Off {
    return { c: this.st.pl.c + this.st.nl, v: this.st.pl.v };
  }

  hdr(off: number, size: 1 | 2 | 4): Val {
    return load(this.st.hdr, off, size);
  }

  net(off: number, size: 1 | 2 | 4): Val {
    return load(this.netOff, off, size);
  }

  /** Relative to the network header of a protocol without SNAP (ISO after 802.2). */
  netNosnap(off: number, size: 1 | 2 | 4): Val {
    return load({ c: this.st.pl.c + this.st.nlNosnap, v: this.st.pl.v }, off, size);
  }

  /** Offset of the header after an IPv4 header (libpcap's OR_TRAN_IPV4). */
  ip4PayloadOff(extra: number): Val {
    return bin('+', { k: 'ihl', off: offVal(this.netOff) }, offVal(this.netOff, extra));
  }

  ip4Payload(off: number, size: 1 | 2 | 4): Val {
    return { k: 'load', off: this.ip4PayloadOff(off), size };
  }

  /** After the fixed IPv6 header (libpcap's OR_TRAN_IPV6). */
  ip6Payload(off: number, size: 1 | 2 | 4): Val {
    return this.net(40 + off, size);
  }
}
