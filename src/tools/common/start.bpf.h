/* The start times of a tool that times each thread between two hooks (runqlat: runnable to running,
 * syscount: syscall entry to exit): a map of them by tid, and the stamp that take_elapsed()
 * (tools.bpf.h) reads back. Include after tools.bpf.h. */
#ifndef __TSBPF_START_BPF_H
#define __TSBPF_START_BPF_H

#define DEFINE_TID_START_MAP(_name) DEFINE_MAP(_name, BPF_MAP_TYPE_HASH, __u32, __u64, 10240)

/* Stamps `key` in a start map with the time now (flags BPF_NOEXIST keeps an earlier stamp). */
static __always_inline void stamp_start(void *map, const void *key, __u64 flags)
{
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(map, key, &ts, flags);
}

#endif
