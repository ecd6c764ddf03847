// syscount: syscalls counted (and timed with -L) per syscall or per process, from
// raw_syscalls/sys_enter and raw_syscalls/sys_exit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tools.bpf.h"
#include "syscount.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool filter_failed = false;
const volatile int filter_errno = 0;   /* positive errno; 0 off */
const volatile bool measure_latency = false;
const volatile bool count_by_process = false;
const volatile __u32 filter_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct data_t);
} data SEC(".maps");

static const struct data_t zero = {};

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u64 ts;

	if (!measure_latency)
		return 0;
	if (filter_pid && filter_pid != pid_tgid >> 32)
		return 0;
	if (!cgroup_allowed())
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, pid = pid_tgid >> 32;
	__u64 *tsp = NULL, delta = 0;
	struct data_t *v;
	__u32 key;
	long ret = ctx->ret;
	long id = ctx->id;

	if (filter_pid && filter_pid != pid)
		return 0;
	if (!cgroup_allowed())
		return 0;
	if (measure_latency) {
		tsp = bpf_map_lookup_elem(&start, &tid);
		if (!tsp)
			return 0;
		delta = bpf_ktime_get_ns() - *tsp;
		bpf_map_delete_elem(&start, &tid);
	}
	if (id < 0)
		return 0;
	if (filter_failed && ret >= 0)
		return 0;
	if (filter_errno && ret != -filter_errno)
		return 0;

	key = count_by_process ? pid : (__u32)id;
	v = bpf_map_lookup_elem(&data, &key);
	if (!v) {
		bpf_map_update_elem(&data, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&data, &key);
		if (!v)
			return 0;
		if (count_by_process)
			bpf_get_current_comm(v->comm, sizeof(v->comm));
	}
	__sync_fetch_and_add(&v->count, 1);
	if (measure_latency)
		__sync_fetch_and_add(&v->total_ns, delta);
	return 0;
}
