// execsnoop: every execve() with its arguments, return code and parent PID.
// syscalls/sys_enter_execve keeps the arguments per thread; sys_exit_execve adds the result
// and sends the record (cut after the last argument).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "execsnoop.h"

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

const volatile __u32 targ_uid = (__u32)-1;
const volatile __u32 targ_pid = 0;     /* the parent (the task calling exec) */
const volatile bool ignore_failed = true;
const volatile int max_args = DEFAULT_MAXARGS;

/* the front end finds the arguments right after the header */
_Static_assert(sizeof(struct event) == __builtin_offsetof(struct event, args), "args must start at sizeof(struct event)");

static const struct exec_buf empty_buf = {};

/* Allocated per exec, not preallocated: 10240 buffers of ~7.7 KiB preallocated are 79 MB the
 * kernel clears at map creation, ~20 ms of the tool's start before it can attach. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct exec_buf);
} execs SEC(".maps");

DEFINE_RINGBUF(events, 16 * 1024 * 1024);

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	const char **argv = (const char **)ctx->args[1];
	struct task_struct *task;
	struct event *e;
	const char *argp;
	int ret, i;

	if (targ_uid != (__u32)-1 && targ_uid != uid)
		return 0;
	if (targ_pid && targ_pid != pid_tgid >> 32)
		return 0;
	if (!cgroup_allowed())
		return 0;
	if (bpf_map_update_elem(&execs, &tid, &empty_buf, BPF_NOEXIST))
		return 0;
	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;

	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = uid;
	task = (struct task_struct *)bpf_get_current_task();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->args_count = 0;
	e->args_size = 0;

	/* the first "argument" is the path exec'd, as libbpf-tools shows it */
	ret = bpf_probe_read_user_str(e->args, ARGSIZE, (const char *)ctx->args[0]);
	if (ret < 0)
		return 0;
	e->args_size = ret <= ARGSIZE ? ret : ARGSIZE;
	e->args_count++;

	for (i = 1; i < TOTAL_MAX_ARGS && i < max_args; i++) {
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp)
			return 0;
		if (e->args_size > LAST_ARG)
			return 0;
		ret = bpf_probe_read_user_str(&e->args[e->args_size], ARGSIZE, argp);
		if (ret < 0)
			return 0;
		e->args_count++;
		e->args_size += ret;
	}
	/* one more: if it exists, the list was cut */
	if (bpf_probe_read_user(&argp, sizeof(argp), &argv[max_args]) == 0 && argp)
		e->args_count++;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e = bpf_map_lookup_elem(&execs, &tid);
	__u32 len;
	int ret;

	if (!e)
		return 0;
	ret = ctx->ret;
	if (ignore_failed && ret < 0)
		goto cleanup;
	e->retval = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	len = sizeof(*e) + e->args_size;
	if (len <= sizeof(struct exec_buf) && bpf_ringbuf_output(&events, e, len, wakeup_flags(&events)))
		count_drop();
cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}
