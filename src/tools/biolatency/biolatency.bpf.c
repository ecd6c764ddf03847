// biolatency: block I/O latency as a log2 histogram, from block/block_rq_issue (or
// block_rq_insert with -Q) to block/block_rq_complete. The tracepoints carry no request pointer,
// so a request is keyed by (dev, sector).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tools.bpf.h"
#include "biolatency.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool targ_per_disk = false;
const volatile bool targ_per_flag = false;
const volatile bool targ_ms = false;
const volatile bool targ_queued = false;
const volatile __u32 targ_dev = 0;   /* 0: every disk */

struct rq_key {
	__u64 sector;
	__u32 dev;
	__u32 pad;
};

DEFINE_MAP(start, BPF_MAP_TYPE_HASH, struct rq_key, __u64, 10240);

DEFINE_MAP(hists, BPF_MAP_TYPE_HASH, struct hist_key, struct hist, 10240);

static const struct hist zero_hist = {};

static __always_inline int trace_start(__u32 dev, __u64 sector, bool issue)
{
	struct rq_key k = { .sector = sector, .dev = dev };
	__u64 ts;

	if (targ_dev && targ_dev != dev)
		return 0;
	if (!cgroup_allowed())
		return 0;
	ts = bpf_ktime_get_ns();
	/* with -Q the insert stamp stays; the issue does not overwrite it */
	bpf_map_update_elem(&start, &k, &ts, issue && targ_queued ? BPF_NOEXIST : BPF_ANY);
	return 0;
}

SEC("tracepoint/block/block_rq_insert")
int block_rq_insert(struct trace_event_raw_block_rq *ctx)
{
	return trace_start(ctx->dev, ctx->sector, false);
}

SEC("tracepoint/block/block_rq_issue")
int block_rq_issue(struct trace_event_raw_block_rq *ctx)
{
	return trace_start(ctx->dev, ctx->sector, true);
}

SEC("tracepoint/block/block_rq_complete")
int block_rq_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	struct rq_key k = { .sector = ctx->sector, .dev = ctx->dev };
	struct hist_key hk = {};
	struct hist *h;
	__u64 delta;

	if (!take_elapsed(&start, &k, &delta))
		return 0;

	if (targ_per_disk)
		hk.dev = ctx->dev;
	/* up to the NUL only: the tracepoint's bytes after it are not cleared, and must not split keys */
	if (targ_per_flag)
		bpf_probe_read_kernel_str(hk.rwbs, sizeof(ctx->rwbs), ctx->rwbs);
	h = lookup_or_init(&hists, &hk, &zero_hist);
	if (!h)
		return 0;
	hist_add(h, delta, targ_ms);
	return 0;
}
