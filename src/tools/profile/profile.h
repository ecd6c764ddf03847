/* profile's aggregation: samples counted per (process, kernel stack, user stack). */
#ifndef __PROFILE_H
#define __PROFILE_H

#define PERF_MAX_STACK_DEPTH 127

struct key_t {
	__u32 pid;
	__s32 user_stack_id;   /* < 0: none (kernel thread, -K, or the stack was lost) */
	__s32 kern_stack_id;
	__u32 pad;
	char name[16];
};

#endif
