// Socket constants of the kernel's headers (linux/socket.h, asm-generic/socket.h, linux/netlink.h,
// linux/if_packet.h, linux/sockios.h) that src/sys/ uses, by the kernel's names.

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;

export const SOL_SOCKET = 1;
export const SOL_PACKET = 263;
export const SOL_NETLINK = 270;

export const SO_RCVTIMEO = 20;
/** also SO_DETACH_FILTER */
export const SO_DETACH_BPF = 27;
export const SO_ATTACH_BPF = 50;

export const SIOCGIFINDEX = 0x8933;

/** linux/if_packet.h */
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const TPACKET_V2 = 1;

/** linux/if_ether.h: every protocol */
export const ETH_P_ALL = 0x0003;
