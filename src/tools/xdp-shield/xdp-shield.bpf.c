// xdp-shield: drop unwanted traffic at the driver. Per packet, in order:
//   ARP and non-IP pass; a source in an allow list (LPM trie, IPv4 or IPv6) passes — allow beats
//   block and skips the rate limits; a source in a block list is dropped; then per-source token
//   buckets (LRU hashes) for all packets and for TCP SYNs drop what goes over the configured rates.
// Every verdict is counted per action, and allow/block hits per rule (per-CPU counters).
// The lists and the config live in maps the front end pins, so rules change while it runs.
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
 * looked up only when it holds rules (n_allow, n_block); the rule's hit counted. ACT_MAX: none. */
static __always_inline __u32 rule_action(void *allow, __u32 n_allow, void *block, __u32 n_block, const void *k, __u64 bytes)
{
	__u32 *rule = n_allow ? bpf_map_lookup_elem(allow, k) : NULL;

	if (rule) {
		count(&rule_stats, *rule, bytes);
		return ACT_ALLOW;
	}
	rule = n_block ? bpf_map_lookup_elem(block, k) : NULL;
	if (rule) {
		count(&rule_stats, *rule, bytes);
		return ACT_BLOCK;
	}
	return ACT_MAX;
}

/* Take one packet's token from the source's bucket; false when it is empty. */
static __always_inline bool take(void *buckets, struct shield_src *k, __u64 rate, __u64 burst, __u64 now)
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
	b->last_ns = now;
	if (tokens < NSEC) {
		b->tokens = tokens;
		return false;
	}
	b->tokens = tokens - NSEC;
	return true;
}

SEC("xdp")
int xdp_shield(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 bytes = end - data;
	struct ethhdr *eth = data;
	struct shield_src src = {};
	__u32 zero = 0, action;
	bool syn = false;
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
		action = rule_action(&allow4, cfg->n_allow4, &block4, cfg->n_block4, &k4, bytes);
		if (action != ACT_MAX)
			return verdict(action, bytes);
		src.addr[10] = 0xff;
		src.addr[11] = 0xff;
		__builtin_memcpy(&src.addr[12], &ip->saddr, 4);
		if (ip->protocol == IPPROTO_TCP && !(ip->frag_off & bpf_htons(0x1fff))) {
			struct tcphdr *th = (void *)ip + (ip->ihl & 0xf) * 4;

			if ((void *)(th + 1) <= end)
				syn = th->syn && !th->ack;
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		struct shield_lpm6 k6 = { .prefixlen = 128 };

		if ((void *)(ip6 + 1) > end)
			return verdict(ACT_MALFORMED, bytes);
		__builtin_memcpy(k6.addr, &ip6->saddr, 16);
		action = rule_action(&allow6, cfg->n_allow6, &block6, cfg->n_block6, &k6, bytes);
		if (action != ACT_MAX)
			return verdict(action, bytes);
		__builtin_memcpy(src.addr, &ip6->saddr, 16);
		if (ip6->nexthdr == IPPROTO_TCP) {
			struct tcphdr *th = (void *)(ip6 + 1);

			if ((void *)(th + 1) <= end)
				syn = th->syn && !th->ack;
		}
	} else {
		return verdict(ACT_OTHER, bytes);
	}

	if ((cfg->pps_rate || (syn && cfg->syn_rate))) {
		__u64 now = bpf_ktime_get_ns();

		if (cfg->pps_rate && !take(&pps_buckets, &src, cfg->pps_rate, cfg->pps_burst, now))
			return verdict(ACT_PPS_RATE, bytes);
		if (syn && cfg->syn_rate && !take(&syn_buckets, &src, cfg->syn_rate, cfg->syn_burst, now))
			return verdict(ACT_SYN_RATE, bytes);
	}
	return verdict(ACT_PASS, bytes);
}
