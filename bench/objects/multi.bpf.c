// The `load` benchmark's object: several programs of several attach kinds, CO-RE reads, global data
// and maps of several types, like a small real tool.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;
__u64 seen = 0;

struct event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
	__u64 ts;
};

/* keeps struct event in the object's BTF, for decoding the ring buffer's records */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline int emit(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (targ_tgid && pid != targ_tgid)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *d = bpf_map_lookup_elem(&drops, &zero);
		if (d)
			(*d)++;
		return 0;
	}
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	__sync_fetch_and_add(&seen, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_execve(void *ctx) { return emit(); }

SEC("tracepoint/sched/sched_process_exit")
int tp_exit(void *ctx) { return emit(); }

SEC("raw_tp/sched_process_fork")
int raw_fork(void *ctx) { return emit(); }

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = BPF_CORE_READ(next, tgid);
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &pid);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_sock(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->newstate == 2)
		return emit();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(void *ctx) { return emit(); }
