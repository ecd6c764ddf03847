/* Histogram value shared by runqlat and biolatency: log2 slots of latency. */
#ifndef __TSBPF_HIST_H
#define __TSBPF_HIST_H

#define MAX_SLOTS 32

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[16];
};

#ifdef __TSBPF_TOOLS_BPF_H
/* One more in the log2 slot of a latency, in microseconds or (ms) milliseconds. */
static __always_inline void hist_add(struct hist *h, __u64 delta_ns, bool ms)
{
	__u64 v = delta_ns / (ms ? 1000000U : 1000U);

	__sync_fetch_and_add(&h->slots[log2_slot(v, MAX_SLOTS)], 1);
}
#endif

#endif
