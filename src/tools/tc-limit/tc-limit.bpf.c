// tc-limit: a rate limit at tc (tcx or clsact), in one of two ways:
//   EDT (egress): every packet gets a departure time (skb->tstamp) no earlier than the previous
//     one plus its length at the rate; the fq qdisc holds it until then — TCP sees pacing, not loss.
//   policing: a token bucket of bytes; packets over it are dropped (ingress, or egress without fq).
// The limit applies to all traffic, or per IP address (destination at egress, source at ingress)
// with --per-ip, and at egress optionally only to sockets of one cgroup.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"
#include "tc-limit.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define NSEC 1000000000ULL

char LICENSE[] SEC("license") = "GPL";

const struct limit_counter *unused_counter __attribute__((unused));

const volatile __u64 rate_bytes = 0;   /* bytes per second */
const volatile __u64 burst_bytes = 0;  /* policing bucket depth */
const volatile __u64 horizon_ns = 2 * NSEC; /* EDT: drop what would wait longer */
const volatile bool edt = false;
const volatile bool per_ip = false;
const volatile bool by_source = false; /* per-ip key: source (ingress) or destination (egress) */
/* egress only: sockets of this cgroup (v2 id), or of any cgroup below it with a level */
const volatile __u64 targ_cgroup_id = 0;
const volatile __u32 targ_cgroup_level = 0;

DEFINE_MAP(stats, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct limit_counter, STAT_MAX);

/* the aggregate limit: one state, locked (both CPUs update it) */
DEFINE_MAP(total, BPF_MAP_TYPE_ARRAY, __u32, struct limit_state_locked, 1);

/* per-IP limits: an LRU keeps the active addresses (spin locks are not allowed in LRU maps; a
 * rare lost update between CPUs only lets one packet more through) */
DEFINE_MAP(per_addr, BPF_MAP_TYPE_LRU_HASH, struct limit_key, struct limit_state, 65536);

static __always_inline int count(__u32 idx, __u64 bytes, int ret)
{
	struct limit_counter *c = bpf_map_lookup_elem(&stats, &idx);

	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
	return ret;
}

/* Policing: a packet passes while the bucket holds anything, and takes its length from it, so the
 * bucket can go into debt by one packet — a 64 KB GSO packet still passes a smaller bucket, and
 * over time exactly the rate gets through. tokens is biased by one bucket (cap) to stay unsigned:
 * tokens - cap is the fill level. Returns 0 pass, 1 drop. */
static __always_inline int police(__u64 *tokens, __u64 *last, __u64 len, __u64 now)
{
	__u64 cap = burst_bytes * NSEC, elapsed, t;

	elapsed = now > *last ? now - *last : 0;
	if (*last == 0 || elapsed >= 2 * cap / rate_bytes)
		t = 2 * cap;
	else
		t = *tokens + elapsed * rate_bytes;
	if (t > 2 * cap)
		t = 2 * cap;
	*last = now;
	if (t <= cap) {
		*tokens = t;
		return 1;
	}
	t -= len * NSEC;
	*tokens = t > 0 && t < 2 * cap ? t : 0;
	return 0;
}

/* EDT: the packet leaves at max(now, next); next moves on by its length at the rate.
 * Returns the departure time, or 0 to drop (beyond the horizon). */
static __always_inline __u64 depart(__u64 *next, __u64 len, __u64 now)
{
	__u64 delay = len * NSEC / rate_bytes, t = *next;

	if (t < now)
		t = now;
	if (t - now > horizon_ns)
		return 0;
	*next = t + delay;
	return t;
}

static __always_inline bool key_of(struct __sk_buff *skb, struct limit_key *k)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return false;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return false;
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		__builtin_memcpy(&k->addr[12], by_source ? &ip->saddr : &ip->daddr, 4);
		return true;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return false;
		__builtin_memcpy(k->addr, by_source ? &ip6->saddr : &ip6->daddr, 16);
		return true;
	}
	return false;
}

static __always_inline int limit(struct __sk_buff *skb)
{
	__u64 len = skb->len, now, when = 0;
	int drop = 0;

	if (targ_cgroup_id) {
		__u64 id = targ_cgroup_level ? bpf_skb_ancestor_cgroup_id(skb, targ_cgroup_level) : bpf_skb_cgroup_id(skb);

		if (id != targ_cgroup_id)
			return count(STAT_SKIP, len, TC_ACT_OK);
	}
	now = bpf_ktime_get_ns();
	if (per_ip) {
		struct limit_key k = {};
		struct limit_state fresh = {};
		struct limit_state *s;

		if (!key_of(skb, &k))
			return count(STAT_SKIP, len, TC_ACT_OK);
		s = lookup_or_init(&per_addr, &k, &fresh);
		if (!s)
			return count(STAT_PASS, len, TC_ACT_OK);
		if (edt)
			when = depart(&s->last_ns, len, now);
		else
			drop = police(&s->tokens, &s->last_ns, len, now);
	} else {
		__u32 zero = 0;
		struct limit_state_locked *s = bpf_map_lookup_elem(&total, &zero);

		if (!s)
			return count(STAT_PASS, len, TC_ACT_OK);
		bpf_spin_lock(&s->lock);
		if (edt)
			when = depart(&s->last_ns, len, now);
		else
			drop = police(&s->tokens, &s->last_ns, len, now);
		bpf_spin_unlock(&s->lock);
	}
	if (edt) {
		if (!when)
			return count(STAT_DROP, len, TC_ACT_SHOT);
		if (when > now) {
			skb->tstamp = when;
			return count(STAT_DELAY, len, TC_ACT_OK);
		}
		return count(STAT_PASS, len, TC_ACT_OK);
	}
	return drop ? count(STAT_DROP, len, TC_ACT_SHOT) : count(STAT_PASS, len, TC_ACT_OK);
}

SEC("tc")
int tc_limit(struct __sk_buff *skb)
{
	return limit(skb);
}
