/* opensnoop's ring-buffer record. */
#ifndef __OPENSNOOP_H
#define __OPENSNOOP_H

#define NAME_MAX 255

struct event {
	__u64 ts_us;
	__u64 cgroup_id;
	__u64 flags;        /* open flags (openat2: how->flags) */
	__u64 latency_ns;   /* entry to return */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret;          /* fd, or -errno */
	__u32 mode;
	__u32 syscall;      /* 0 open, 1 openat, 2 openat2 */
	char comm[16];
	char fname[NAME_MAX + 1];
};

#endif
