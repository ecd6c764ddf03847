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
	/* changed by user space (to a new nonzero value) whenever a rule or a rate changes: the
	 * program's per-CPU cache of verdicts holds only what was decided under the current value */
	__u32 gen;
	__u32 pad;
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

/* One slot of the per-CPU cache of sources (direct-mapped by a hash of the address): what the
 * lists say of the source, and until when its buckets are known to be empty — so a source the
 * rules decide, or one over its rate, costs no trie or bucket lookup until that time. Valid only
 * while gen equals the config's. */
struct shield_cache {
	__u8 addr[16];
	__u32 gen;
	__u16 action; /* ACT_ALLOW, ACT_BLOCK, or ACT_MAX: no rule matches */
	__u16 pad;
	__u32 rule;   /* the matching rule's id (ACT_ALLOW, ACT_BLOCK) */
	__u32 pad2;
	__u64 pps_empty_until; /* ktime: the packet-rate bucket has no token before this */
	__u64 syn_empty_until; /* ktime: the SYN bucket has no token before this */
};

#endif
