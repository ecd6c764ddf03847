/* tcplife's ring-buffer record: one per TCP session, sent when it closes. */
#ifndef __TCPLIFE_H
#define __TCPLIFE_H

#define MAX_PORTS 8

struct event {
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16];
	__u64 ts_us;
	__u64 span_us;
	__u64 rx_b;
	__u64 tx_b;
	__u64 cgroup_id;
	__u32 pid;
	__u16 sport;   /* host byte order */
	__u16 dport;
	__u16 family;
	__u16 pad[3];
};

struct ident {
	__u32 pid;
	__u32 pad;
	__u64 cgroup_id;
	char comm[16];
};

#endif
