// syscount: syscalls counted (and timed with -L) per syscall or per process, from
// raw_syscalls/sys_enter and raw_syscalls/sys_exit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tools.bpf.h"
#include "start.bpf.h"
#include "syscount.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool filter_failed = false;
const volatile int filter_errno = 0;   /* positive errno; 0 off */
const volatile bool measure_latency = false;
const volatile bool count_by_process = false;
const volatile __u32 filter_pid = 0;

DEFINE_TID_START_MAP(start);

DEFINE_MAP(data, BPF_MAP_TYPE_HASH, __u32, struct data_t, 1024);

static const struct data_t zero = {};

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;

	if (!measure_latency)
		return 0;
	if (filter_pid && filter_pid != pid_tgid >> 32)
		return 0;
	if (!cgroup_allowed())
		return 0;
	stamp_start(&start, &tid, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, pid = pid_tgid >> 32;
	__u64 delta = 0;
	struct data_t *v;
	__u32 key;
	long ret = ctx->ret;
	long id = ctx->id;

	if (filter_pid && filter_pid != pid)
		return 0;
	if (!cgroup_allowed())
		return 0;
	/* a call whose entry was not seen (or timed across CPUs whose clocks disagree) is left out */
	if (measure_latency && !take_elapsed(&start, &tid, &delta))
		return 0;
	if (id < 0)
		return 0;
	if (filter_failed && ret >= 0)
		return 0;
	if (filter_errno && ret != -filter_errno)
		return 0;

	key = count_by_process ? pid : (__u32)id;
	v = lookup_or_init(&data, &key, &zero);
	if (!v)
		return 0;
	if (count_by_process && !v->comm[0])
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	__sync_fetch_and_add(&v->count, 1);
	if (measure_latency)
		__sync_fetch_and_add(&v->total_ns, delta);
	return 0;
}
