/* A port list set from user space before load (.rodata): the first n of MAX_PORTS entries count,
 * and n = 0 lets any port through. Include after the tool's header (MAX_PORTS). */
#ifndef __TSBPF_PORT_LIST_BPF_H
#define __TSBPF_PORT_LIST_BPF_H

static __always_inline bool in_list(__u16 port, __u32 n, const volatile __u16 *list)
{
	if (!n)
		return true;
	for (int i = 0; i < MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (list[i] == port)
			return true;
	}
	return false;
}

#endif
