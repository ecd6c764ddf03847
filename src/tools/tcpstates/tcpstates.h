/* tcpstates' ring-buffer record: one per TCP state change. */
#ifndef __TCPSTATES_H
#define __TCPSTATES_H

#define MAX_PORTS 8

struct event {
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16];
	__u64 skaddr;
	__u64 ts_us;
	__u64 delta_us;   /* time spent in the old state */
	__u64 cgroup_id;
	__u32 pid;
	__s32 oldstate;
	__s32 newstate;
	__u16 family;
	__u16 sport;      /* host byte order */
	__u16 dport;
	__u16 pad[3];
};

#endif
