/* tc-limit: what the kernel program and the front end share. */
#ifndef __TC_LIMIT_H
#define __TC_LIMIT_H

/* stats index */
enum limit_stat {
	STAT_PASS = 0,    /* sent on at once */
	STAT_DELAY = 1,   /* given a later departure time (EDT) */
	STAT_DROP = 2,    /* over the rate (policing) or beyond the EDT horizon */
	STAT_SKIP = 3,    /* not ours: other cgroup */
	STAT_MAX = 4,
};

struct limit_counter {
	__u64 packets;
	__u64 bytes;
};

/* a source or destination address: IPv4 as ::ffff:a.b.c.d, all zero for the aggregate */
struct limit_key {
	__u8 addr[16];
};

/* policing: tokens in byte-nanoseconds (a byte costs 1e9); EDT: next departure time in ns */
struct limit_state {
	__u64 tokens;
	__u64 last_ns;
};

struct limit_state_locked {
	struct bpf_spin_lock lock;
	__u64 tokens;
	__u64 last_ns;
};

#endif
