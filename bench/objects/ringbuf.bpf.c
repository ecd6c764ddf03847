// The `ringbuf` benchmark's producer: one record per getppid() of the target process.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;

struct record {
	__u64 seq;
	__u64 ts;
	__u32 pid;
	__u32 pad;
	__u8 payload[40];
};

const struct record *unused_record __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps"); /* [0] produced, [1] dropped (reserve failed) */

SEC("tracepoint/syscalls/sys_enter_getppid")
int produce(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return 0;
	__u32 k0 = 0, k1 = 1;
	__u64 *produced = bpf_map_lookup_elem(&stats, &k0);
	if (!produced)
		return 0;
	__u64 seq = __sync_fetch_and_add(produced, 1);
	struct record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__u64 *dropped = bpf_map_lookup_elem(&stats, &k1);
		if (dropped)
			__sync_fetch_and_add(dropped, 1);
		return 0;
	}
	r->seq = seq;
	r->ts = bpf_ktime_get_ns();
	r->pid = targ_tgid;
	bpf_ringbuf_submit(r, 0);
	return 0;
}
