/* xdp-shield: what the kernel program and the front end share. */
#ifndef __XDP_SHIELD_H
#define __XDP_SHIELD_H

#define MAX_RULES 4096

/* per-action counters (index of the action_stats array) */
enum shield_action {
	ACT_PASS = 0,      /* passed every check */
	ACT_ALLOW = 1,     /* passed: source in an allow list */
	ACT_ARP = 2,       /* passed: ARP (never blocked) */
	ACT_OTHER = 3,     /* passed: not IPv4/IPv6 */
	ACT_BLOCK = 4,     /* dropped: source in a block list */
	ACT_SYN_RATE = 5,  /* dropped: SYN over the source's SYN rate */
	ACT_PPS_RATE = 6,  /* dropped: over the source's packet rate */
	ACT_MALFORMED = 7, /* passed: too short to parse (the stack drops it) */
	ACT_MAX = 8,
};

struct shield_counter {
	__u64 packets;
	__u64 bytes;
};

/* rates in packets per second, bursts in packets; 0 = off */
struct shield_config {
	__u64 syn_rate;
	__u64 syn_burst;
	__u64 pps_rate;
	__u64 pps_burst;
	/* rules per list, kept by user space: an empty list costs no lookup */
	__u32 n_allow4;
	__u32 n_allow6;
	__u32 n_block4;
	__u32 n_block6;
};

struct shield_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct shield_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* a source address: IPv4 as ::ffff:a.b.c.d */
struct shield_src {
	__u8 addr[16];
};

struct shield_bucket {
	__u64 tokens; /* in nanopackets: one packet costs 1e9 */
	__u64 last_ns;
};

#endif
