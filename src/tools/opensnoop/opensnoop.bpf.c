// opensnoop: open(), openat() and openat2() with path, flags and result.
// The entry tracepoint keeps the path pointer and flags per thread; the exit reads the path
// (still mapped: the caller is blocked in the syscall) and sends the record.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tools.bpf.h"
#include "events.bpf.h"
#include "opensnoop.h"

char LICENSE[] SEC("license") = "GPL";

/* keeps struct event in the object's BTF: the front end decodes records with it */
const struct event *unused_event __attribute__((unused));

const volatile __u32 targ_pid = 0;
const volatile __u32 targ_tid = 0;
const volatile __u32 targ_uid = (__u32)-1;
const volatile bool targ_failed = false;

struct args_t {
	const char *fname;
	__u64 flags;
	__u64 ts;
	__u32 mode;
	__u32 syscall;
};

DEFINE_MAP(start, BPF_MAP_TYPE_HASH, __u32, struct args_t, 10240);

DEFINE_RINGBUF(events, 8 * 1024 * 1024);

static __always_inline bool trace_allowed(__u64 pid_tgid)
{
	if (targ_pid && targ_pid != pid_tgid >> 32)
		return false;
	if (targ_tid && targ_tid != (__u32)pid_tgid)
		return false;
	if (targ_uid != (__u32)-1 && targ_uid != (__u32)bpf_get_current_uid_gid())
		return false;
	return cgroup_allowed();
}

static __always_inline int enter(const char *fname, __u64 flags, __u32 mode, __u32 syscall)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct args_t a = { .fname = fname, .flags = flags, .mode = mode, .syscall = syscall };

	if (!trace_allowed(pid_tgid))
		return 0;
	a.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int leave(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct args_t *a = bpf_map_lookup_elem(&start, &tid);
	struct event *e;
	int ret;

	if (!a)
		return 0;
	ret = ctx->ret;
	if (targ_failed && ret >= 0)
		goto cleanup;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		goto cleanup;
	}
	__u64 now = bpf_ktime_get_ns();

	e->ts_us = now / 1000;
	e->latency_ns = now - a->ts;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->flags = a->flags;
	e->mode = a->mode;
	e->syscall = a->syscall;
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->fname, sizeof(e->fname), a->fname) < 0)
		e->fname[0] = 0;
	bpf_ringbuf_submit(e, wakeup_flags(&events));
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int tracepoint__syscalls__sys_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[0], ctx->args[1], ctx->args[2], 0);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return enter((const char *)ctx->args[1], ctx->args[2], ctx->args[3], 1);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int tracepoint__syscalls__sys_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return enter((const char *)ctx->args[1], how.flags, how.mode, 2);
}

SEC("tracepoint/syscalls/sys_exit_open")
int tracepoint__syscalls__sys_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tracepoint__syscalls__sys_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int tracepoint__syscalls__sys_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return leave(ctx);
}
