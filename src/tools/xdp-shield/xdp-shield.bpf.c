// xdp-shield: drop unwanted traffic at the driver. Per packet, in order:
//   ARP and non-IP pass; a source in an allow list (LPM trie, IPv4 or IPv6) passes — allow beats
//   block and skips the rate limits; a source in a block list is dropped; then per-source token
//   buckets (LRU hashes) for all packets and for TCP SYNs drop what goes over the configured rates.
// Every verdict is counted per action, and allow/block hits per rule (per-CPU counters).
// The lists and the config live in maps the front end pins, so rules change while it runs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct shield_counter);
} rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACT_MAX);
	__type(key, __u32);
	__type(value, struct shield_counter);
} action_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shield_config);
} shield_cfg SEC(".maps");

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
	__u32 zero = 0, *rule;
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
		rule = cfg->n_allow4 ? bpf_map_lookup_elem(&allow4, &k4) : NULL;
		if (rule) {
			count(&rule_stats, *rule, bytes);
			return verdict(ACT_ALLOW, bytes);
		}
		rule = cfg->n_block4 ? bpf_map_lookup_elem(&block4, &k4) : NULL;
		if (rule) {
			count(&rule_stats, *rule, bytes);
			return verdict(ACT_BLOCK, bytes);
		}
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
		rule = cfg->n_allow6 ? bpf_map_lookup_elem(&allow6, &k6) : NULL;
		if (rule) {
			count(&rule_stats, *rule, bytes);
			return verdict(ACT_ALLOW, bytes);
		}
		rule = cfg->n_block6 ? bpf_map_lookup_elem(&block6, &k6) : NULL;
		if (rule) {
			count(&rule_stats, *rule, bytes);
			return verdict(ACT_BLOCK, bytes);
		}
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
