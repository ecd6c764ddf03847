// xdp-shield: drop unwanted traffic at the driver. Per packet, in order:
//   ARP and non-IP pass; a source in an allow list (LPM trie, IPv4 or IPv6) passes — allow beats
//   block and skips the rate limits; a source in a block list is dropped; then per-source token
//   buckets (LRU hashes) for all packets and for TCP SYNs drop what goes over the configured rates.
// Every verdict is counted per action, and allow/block hits per rule (per-CPU counters).
// The lists and the config live in maps the front end pins, so rules change while it runs.
//
// Per packet cost: a per-CPU cache (src_cache) remembers, per source, the lists' verdict and until
// when each of its buckets is known to be empty, under the config's generation number (user space
// changes it with every rule or rate change). A flood's source then costs a hash, an inlined
// per-CPU array lookup and a clock read: no trie walk, no bucket lookup, no shared cache line
// written. Caching "empty until" changes nothing enforced: tokens only grow with time and other
// CPUs only take them, so a bucket empty until T on this CPU's reckoning is empty until T for all;
// and a bucket is not written while it refuses (its refill from the last write is the same).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "xdp-shield.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_TCP 6
#define NSEC 1000000000ULL
#define MAX_ELAPSED (10 * NSEC)
#define CACHE_BITS 10
#define CACHE_SLOTS (1 << CACHE_BITS)

char LICENSE[] SEC("license") = "GPL";

/* keep the shared types in the object's BTF: the front end decodes the maps with them */
const struct shield_config *unused_config __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shield_lpm4);
	__type(value, __u32); /* rule id */
} allow4 SEC(".maps"), block4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shield_lpm6);
	__type(value, __u32);
} allow6 SEC(".maps"), block6 SEC(".maps");

DEFINE_MAP(rule_stats, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct shield_counter, MAX_RULES);

DEFINE_MAP(action_stats, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct shield_counter, ACT_MAX);

DEFINE_MAP(shield_cfg, BPF_MAP_TYPE_ARRAY, __u32, struct shield_config, 1);

DEFINE_MAP(src_cache, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct shield_cache, CACHE_SLOTS);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct shield_src);
	__type(value, struct shield_bucket);
} syn_buckets SEC(".maps"), pps_buckets SEC(".maps");

static __always_inline void count(void *map, __u32 idx, __u64 bytes)
{
	struct shield_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

static __always_inline int verdict(__u32 action, __u64 bytes)
{
	count(&action_stats, action, bytes);
	return action >= ACT_BLOCK && action != ACT_MALFORMED ? XDP_DROP : XDP_PASS;
}

/* The action of the first rule matching source key `k`: allow rules before block rules, each map
 * looked up only when it holds rules (n_allow, n_block); the rule's id in *id. ACT_MAX: none. */
static __always_inline __u32 rule_action(void *allow, __u32 n_allow, void *block, __u32 n_block, const void *k, __u32 *id)
{
	__u32 *rule = n_allow ? bpf_map_lookup_elem(allow, k) : NULL;

	if (rule) {
		*id = *rule;
		return ACT_ALLOW;
	}
	rule = n_block ? bpf_map_lookup_elem(block, k) : NULL;
	if (rule) {
		*id = *rule;
		return ACT_BLOCK;
	}
	return ACT_MAX;
}

static __always_inline bool same_src(const struct shield_cache *c, const struct shield_src *s)
{
	const __u64 *a = (const __u64 *)c->addr, *b = (const __u64 *)s->addr;

	return a[0] == b[0] && a[1] == b[1];
}

/* Take one packet's token from the source's bucket; false when it is empty, with *until the time
 * before which it stays empty. An empty bucket is not written: its refill counts from the last
 * write, which gives the same tokens (never capped while under one token, never more than
 * MAX_ELAPSED behind while empty since a refill of one token takes at most 1 s). */
static __always_inline bool take(void *buckets, struct shield_src *k, __u64 rate, __u64 burst, __u64 now, __u64 *until)
{
	__u64 cap = burst * NSEC, tokens, elapsed;
	struct shield_bucket *b = bpf_map_lookup_elem(buckets, k);

	if (!b) {
		struct shield_bucket fresh = { .tokens = cap - NSEC, .last_ns = now };

		bpf_map_update_elem(buckets, k, &fresh, BPF_ANY);
		return true;
	}
	elapsed = now > b->last_ns ? now - b->last_ns : 0;
	if (elapsed > MAX_ELAPSED)
		elapsed = MAX_ELAPSED;
	tokens = b->tokens + elapsed * rate;
	if (tokens > cap)
		tokens = cap;
	if (tokens < NSEC) {
		*until = now + (NSEC - tokens + rate - 1) / rate;
		return false;
	}
	b->last_ns = now;
	b->tokens = tokens - NSEC;
	return true;
}

/* This CPU's cache slot for source `s`. */
static __always_inline struct shield_cache *cache_slot(const struct shield_src *s)
{
	const __u32 *w = (const __u32 *)s->addr;
	__u32 slot = ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9E3779B1u) >> (32 - CACHE_BITS);

	return bpf_map_lookup_elem(&src_cache, &slot);
}

/* The verdict of a packet (`bytes` long) from IPv4 or IPv6 source `src` (the lists' key in `k`);
 * `th` its TCP header when it has one (whole, in the packet), else NULL. */
/* Whether a packet of `src` is within `rate`/`burst` (the bucket in `buckets` has a token): not while
 * the cache slot's `*empty_until` (NULL without a slot) says the bucket is still empty, nor when take()
 * finds it empty, which the slot then remembers. */
static __always_inline bool within_rate(void *buckets, struct shield_src *src, __u64 rate, __u64 burst, __u64 now, __u64 *empty_until)
{
	__u64 until;

	if (empty_until && now < *empty_until)
		return false;
	if (take(buckets, src, rate, burst, now, &until))
		return true;
	if (empty_until)
		*empty_until = until;
	return false;
}

/* A SYN (without ACK) that the SYN rate applies to; its flags are read only when there is one. */
static __always_inline bool rated_syn(struct shield_config *cfg, struct tcphdr *th)
{
	return cfg->syn_rate && th && th->syn && !th->ack;
}

static __always_inline int judge(struct shield_config *cfg, struct shield_src *src, const void *k, bool v6, struct tcphdr *th, __u64 bytes)
{
	struct shield_cache *c = cache_slot(src);
	__u32 gen = cfg->gen, action, rule = 0;
	__u64 now;

	if (c && c->gen == gen && gen && same_src(c, src)) {
		action = c->action;
		rule = c->rule;
	} else {
		action = v6 ? rule_action(&allow6, cfg->n_allow6, &block6, cfg->n_block6, k, &rule)
			    : rule_action(&allow4, cfg->n_allow4, &block4, cfg->n_block4, k, &rule);
		if (c) {
			__builtin_memcpy(c->addr, src->addr, 16);
			c->gen = gen;
			c->action = action;
			c->rule = rule;
			c->pps_empty_until = 0;
			c->syn_empty_until = 0;
		}
	}
	if (action != ACT_MAX) {
		count(&rule_stats, rule, bytes);
		return verdict(action, bytes);
	}
	/* no clock read for a packet no rate applies to */
	if (!cfg->pps_rate && !rated_syn(cfg, th))
		return verdict(ACT_PASS, bytes);
	now = bpf_ktime_get_ns();
	if (cfg->pps_rate && !within_rate(&pps_buckets, src, cfg->pps_rate, cfg->pps_burst, now, c ? &c->pps_empty_until : NULL))
		return verdict(ACT_PPS_RATE, bytes);
	if (rated_syn(cfg, th) && !within_rate(&syn_buckets, src, cfg->syn_rate, cfg->syn_burst, now, c ? &c->syn_empty_until : NULL))
		return verdict(ACT_SYN_RATE, bytes);
	return verdict(ACT_PASS, bytes);
}

SEC("xdp")
int xdp_shield(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 bytes = end - data;
	struct ethhdr *eth = data;
	struct shield_src src = {};
	struct tcphdr *th = NULL;
	__u32 zero = 0;
	__u16 proto;
	void *l3;

	struct shield_config *cfg = bpf_map_lookup_elem(&shield_cfg, &zero);

	if (!cfg)
		return XDP_PASS;
	if ((void *)(eth + 1) > end)
		return verdict(ACT_MALFORMED, bytes);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > end)
			return verdict(ACT_MALFORMED, bytes);
		proto = vh->h_vlan_encapsulated_proto;
		l3 = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_ARP))
		return verdict(ACT_ARP, bytes);

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		struct shield_lpm4 k4 = { .prefixlen = 32 };

		if ((void *)(ip + 1) > end)
			return verdict(ACT_MALFORMED, bytes);
		__builtin_memcpy(k4.addr, &ip->saddr, 4);
		src.addr[10] = 0xff;
		src.addr[11] = 0xff;
		__builtin_memcpy(&src.addr[12], &ip->saddr, 4);
		if (ip->protocol == IPPROTO_TCP && !(ip->frag_off & bpf_htons(0x1fff))) {
			th = (void *)ip + (ip->ihl & 0xf) * 4;
			if ((void *)(th + 1) > end)
				th = NULL;
		}
		return judge(cfg, &src, &k4, false, th, bytes);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		struct shield_lpm6 k6 = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > end)
			return verdict(ACT_MALFORMED, bytes);
		__builtin_memcpy(k6.addr, &ip6->saddr, 16);
		__builtin_memcpy(src.addr, &ip6->saddr, 16);
		if (ip6->nexthdr == IPPROTO_TCP) {
			th = (void *)(ip6 + 1);
			if ((void *)(th + 1) > end)
				th = NULL;
		}
		return judge(cfg, &src, &k6, true, th, bytes);
	}
	return verdict(ACT_OTHER, bytes);
}
