/* Pieces every tool's kernel program shares: map definitions (maps.bpf.h), the filters set from user space before
 * load (.rodata), the "drops" counter of failed ring-buffer reservations, the start-stamp and
 * lookup-or-create steps of the latency tools, and a log2 for histograms.
 * Include after vmlinux.h and bpf_helpers.h. */
#ifndef __TSBPF_TOOLS_BPF_H
#define __TSBPF_TOOLS_BPF_H

#include "maps.bpf.h"

#define TASK_COMM_LEN 16

/* cgroup filter: 0 = off. With a level, any task in the cgroup or below it matches
 * (the ancestor at that level is the target); without, only the cgroup itself. */
const volatile __u64 targ_cgroup_id = 0;
const volatile __u32 targ_cgroup_level = 0;

/* Failed ring-buffer reservations, per CPU: user space sums them and reports lost events. */
DEFINE_MAP(drops, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64, 1);

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	if (n)
		*n += 1;
}

static __always_inline bool cgroup_allowed(void)
{
	if (!targ_cgroup_id)
		return true;
	if (targ_cgroup_level)
		return bpf_get_current_ancestor_cgroup_id(targ_cgroup_level) == targ_cgroup_id;
	return bpf_get_current_cgroup_id() == targ_cgroup_id;
}

/* The same filter for another task than the current one (a task being woken up, say): its cgroup
 * on the unified hierarchy, or that cgroup's ancestor at targ_cgroup_level. Needs bpf_core_read.h. */
#ifdef __BPF_CORE_READ_H__
static __always_inline bool task_cgroup_allowed(struct task_struct *t)
{
	struct cgroup *cg, *anc = NULL;
	__u32 lvl = targ_cgroup_level;

	if (!targ_cgroup_id)
		return true;
	cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	if (!cg)
		return false;
	if (!lvl)
		return BPF_CORE_READ(cg, kn, id) == targ_cgroup_id;
	if (lvl > 255 || BPF_CORE_READ(cg, level) < (int)lvl)
		return false;
	bpf_probe_read_kernel(&anc, sizeof(anc), &cg->ancestors[lvl]);
	return anc && BPF_CORE_READ(anc, kn, id) == targ_cgroup_id;
}
#endif

/* A zeroed record of `size` bytes in ring buffer `rb`, or NULL with the drop counted (the front end
 * reports lost records from `drops`). `size` must be a constant: the verifier checks the reservation. */
static __always_inline void *reserve_record(void *rb, __u64 size)
{
	void *r = bpf_ringbuf_reserve(rb, size, 0);

	if (!r) {
		count_drop();
		return NULL;
	}
	__builtin_memset(r, 0, size);
	return r;
}

/* Takes the start stamp of `key` out of `map` and sets *delta to the nanoseconds since; false when
 * there was none, or the clock went backwards between CPUs. */
static __always_inline bool take_elapsed(void *map, const void *key, __u64 *delta)
{
	__u64 *tsp = bpf_map_lookup_elem(map, key);

	if (!tsp)
		return false;
	*delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(map, key);
	return (__s64)*delta >= 0;
}

/* floor(log2(v)) for v > 0, 0 for v == 0: slot i holds [2^i, 2^(i+1)), slot 0 holds 0 and 1. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* The log2 slot of v in a histogram of `slots` slots (a power of two), the last for anything larger.
 * clang compares a copy of the register and indexes with the original; older verifiers (Debian's 6.1)
 * do not carry the bound over ("unbounded memory access"), so the mask, which clang must keep after
 * the barrier, bounds the index for every kernel. */
static __always_inline __u32 log2_slot(__u64 v, __u32 slots)
{
	__u32 slot = log2_u64(v);

	if (slot >= slots)
		slot = slots - 1;
	asm volatile("" : "+r"(slot));
	return slot & (slots - 1);
}

#endif
