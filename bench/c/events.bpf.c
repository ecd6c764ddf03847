// The `ringbuf` benchmark's producers: one record per getppid() of the producer process, into a
// ring buffer (ring_SIZE: 32 bytes to 4 KiB) or a perf buffer (perf_32, perf_1k). The
// record starts with a sequence number (the count of records so far), which consumers add up: the
// sum of 0..N-1 says every record arrived once. stats[0] counts records, stats[1] those a full
// buffer refused. Built by the benchmark at run time (bench/bin/).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20); /* the benchmark may size it at load */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* a 1 KiB record does not fit on the BPF stack: perf_1k builds it here */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[1024]);
} scratch SEC(".maps");

static __always_inline __u64 *counter(__u32 k)
{
	return bpf_map_lookup_elem(&stats, &k);
}

/* the record's sequence number, or -1 for a call from another process */
static __always_inline __s64 next_seq(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return -1;
	__u64 *produced = counter(0);
	if (!produced)
		return -1;
	return __sync_fetch_and_add(produced, 1);
}

static __always_inline void dropped(void)
{
	__u64 *d = counter(1);
	if (d)
		__sync_fetch_and_add(d, 1);
}

#define RING_PRODUCER(name, SIZE)                                      \
	SEC("tracepoint/syscalls/sys_enter_getppid")                   \
	int name(void *ctx)                                            \
	{                                                              \
		__s64 seq = next_seq();                                \
		if (seq < 0)                                           \
			return 0;                                      \
		__u64 *r = bpf_ringbuf_reserve(&ring, SIZE, 0);        \
		if (!r) {                                              \
			dropped();                                     \
			return 0;                                      \
		}                                                      \
		r[0] = seq;                                            \
		bpf_ringbuf_submit(r, 0);                              \
		return 0;                                              \
	}

RING_PRODUCER(ring_32, 32)
RING_PRODUCER(ring_128, 128)
RING_PRODUCER(ring_512, 512)
RING_PRODUCER(ring_1k, 1024)
RING_PRODUCER(ring_4k, 4096)

SEC("tracepoint/syscalls/sys_enter_getppid")
int perf_32(void *ctx)
{
	__s64 seq = next_seq();
	if (seq < 0)
		return 0;
	__u64 r[4] = { seq };
	if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, r, sizeof(r)))
		dropped();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int perf_1k(void *ctx)
{
	__u32 k = 0;
	__s64 seq = next_seq();
	if (seq < 0)
		return 0;
	__u64 *r = bpf_map_lookup_elem(&scratch, &k);
	if (!r)
		return 0;
	r[0] = seq;
	if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, r, 1024))
		dropped();
	return 0;
}
