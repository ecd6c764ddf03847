// A packet counter as the network tools' kernel programs keep it (struct { __u64 packets, bytes; },
// per rule, per verdict), read as JavaScript numbers: counts stay below 2^53.
import { u64n, type Codec } from '../../maps/codec.js';

export interface PacketCounter {
  packets: number;
  bytes: number;
}

export const packetCounter: Codec<PacketCounter> = {
  size: 16,
  decode: (v, o) => ({ packets: u64n.decode(v, o), bytes: u64n.decode(v, o + 8) }),
  encode: (x, v, o) => {
    u64n.encode(x.packets, v, o);
    u64n.encode(x.bytes, v, o + 8);
  },
};
