/* Histogram value shared by runqlat and biolatency: log2 slots of latency. */
#ifndef __TSBPF_HIST_H
#define __TSBPF_HIST_H

#define MAX_SLOTS 32

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[16];
};

#endif
