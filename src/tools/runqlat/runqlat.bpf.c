// runqlat: time tasks wait on a run queue, as a log2 histogram (all, per process or per thread).
// raw_tp sched_wakeup/sched_wakeup_new stamp a task as runnable; raw_tp sched_switch stamps a
// preempted task still runnable, and measures the wait of the task switched in.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tools.bpf.h"
#include "start.bpf.h"
#include "runqlat.h"

#define TASK_RUNNING 0

char LICENSE[] SEC("license") = "GPL";

const volatile bool targ_per_process = false;
const volatile bool targ_per_thread = false;
const volatile bool targ_ms = false;
const volatile __u32 targ_tgid = 0;

DEFINE_TID_START_MAP(start);

DEFINE_MAP(hists, BPF_MAP_TYPE_HASH, __u32, struct hist, 10240);

static const struct hist zero_hist = {};

static __always_inline int trace_enqueue(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 pid = BPF_CORE_READ(p, pid);

	if (!pid)
		return 0;
	if (targ_tgid && targ_tgid != tgid)
		return 0;
	if (!task_cgroup_allowed(p))
		return 0;
	stamp_start(&start, &pid, BPF_ANY);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid, key = 0;
	__u64 delta;
	struct hist *h;

	if (BPF_CORE_READ(prev, __state) == TASK_RUNNING)
		trace_enqueue(prev);

	pid = BPF_CORE_READ(next, pid);
	if (!take_elapsed(&start, &pid, &delta))
		return 0;

	if (targ_per_process)
		key = BPF_CORE_READ(next, tgid);
	else if (targ_per_thread)
		key = pid;
	h = lookup_or_init(&hists, &key, &zero_hist);
	if (!h)
		return 0;
	/* a per-process or per-thread slot is named once, by the task that made it */
	if (key && !h->comm[0])
		bpf_probe_read_kernel_str(h->comm, sizeof(h->comm), next->comm);
	hist_add(h, delta, targ_ms);
	return 0;
}
