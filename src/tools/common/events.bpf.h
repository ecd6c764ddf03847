/* Ring-buffer wakeup batching, shared by the event tools (include after bpf_helpers.h).
 *
 * By default the kernel wakes the reader for each record it submits while the reader has caught
 * up, which for a reader as fast as the producer is once per record: a context switch, an epoll
 * round and a JS callback per event, on a machine whose CPUs the traced workload needs too.
 * With `wakeup_bytes` set (the front end does so when its reader also drains on a timer), records
 * are submitted with BPF_RB_NO_WAKEUP and the reader is forced awake only once that many bytes
 * wait unread; the timer picks up the rest. 0 keeps the kernel's default. */
#ifndef __TSBPF_EVENTS_BPF_H
#define __TSBPF_EVENTS_BPF_H

const volatile __u64 wakeup_bytes = 0;

/* The flags to submit a record of ring buffer `rb` with (bpf_ringbuf_submit/output). */
static __always_inline __u64 wakeup_flags(void *rb)
{
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#endif
