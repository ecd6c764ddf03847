// profile: CPU samples at a fixed rate (perf_event on the software cpu-clock, one per CPU), counted
// per process and stack; the stacks themselves go to a stack-trace map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tools.bpf.h"
#include "profile.h"

#define BPF_F_USER_STACK (1ULL << 8)

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_pid = 0;      /* TGID */
const volatile __u32 targ_tid = 0;
const volatile bool user_stacks_only = false;
const volatile bool kernel_stacks_only = false;
const volatile bool include_idle = false;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(__u64));
} stackmap SEC(".maps");

DEFINE_MAP(counts, BPF_MAP_TYPE_HASH, struct key_t, __u64, 16384);

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	static const __u64 one = 1;
	struct key_t key = {};
	__u64 *n;

	if (!include_idle && tid == 0)
		return 0;
	if (targ_pid && targ_pid != pid)
		return 0;
	if (targ_tid && targ_tid != tid)
		return 0;
	if (!cgroup_allowed())
		return 0;

	key.pid = pid;
	bpf_get_current_comm(key.name, sizeof(key.name));
	key.kern_stack_id = user_stacks_only ? -1 : bpf_get_stackid(ctx, &stackmap, 0);
	key.user_stack_id = kernel_stacks_only ? -1 : bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);

	n = bpf_map_lookup_elem(&counts, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}
