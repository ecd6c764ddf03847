/* tcpconnect's ring-buffer record. Read by the front end through the object's BTF ("struct event"). */
#ifndef __TCPCONNECT_H
#define __TCPCONNECT_H

#define MAX_PORTS 8

enum event_kind {
	EVENT_CONNECT = 1, /* a connect() started (tracepoint) or returned (kretprobe/fexit) */
	EVENT_SPORT = 2,   /* a later state change of that socket: the source port is known now */
};

struct event {
	__u8 saddr[16];    /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[16];
	__u64 ts_us;
	__u64 cgroup_id;
	__u64 id;          /* the socket's address: pairs an EVENT_SPORT with its EVENT_CONNECT */
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 ret;         /* connect()'s return where the hook sees it (kretprobe, fexit), else 0 */
	__u16 af;
	__u16 sport;       /* host byte order; 0 until known */
	__u16 dport;       /* host byte order */
	__u8 kind;         /* enum event_kind */
	__u8 state;        /* EVENT_SPORT: the TCP state the socket moved to (1 ESTABLISHED, 7 CLOSE) */
};

struct ipv4_flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 dport;
	__u16 pad;
};

struct ipv6_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 dport;
	__u16 pad;
};

#endif
