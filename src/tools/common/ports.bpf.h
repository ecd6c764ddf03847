/* Local and remote port filters, set from user space before load (.rodata; a count of 0 lets any
 * port through), shared by tcplife and tcpstates. Include after the tool's header (MAX_PORTS). */
#ifndef __TSBPF_PORTS_BPF_H
#define __TSBPF_PORTS_BPF_H

#include "port_list.bpf.h"

const volatile __u32 n_sports = 0;
const volatile __u16 target_sports[MAX_PORTS] = {};
const volatile __u32 n_dports = 0;
const volatile __u16 target_dports[MAX_PORTS] = {};

/* The socket's local and remote ports both pass their filters. */
static __always_inline bool ports_allowed(__u16 sport, __u16 dport)
{
	return in_list(sport, n_sports, target_sports) && in_list(dport, n_dports, target_dports);
}

#endif
