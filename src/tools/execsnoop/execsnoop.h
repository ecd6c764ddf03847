/* execsnoop's ring-buffer record: a fixed header (struct event, which the front end decodes with the
 * object's BTF) followed by args_size bytes of NUL-separated arguments; the record is cut there. */
#ifndef __EXECSNOOP_H
#define __EXECSNOOP_H

#define ARGSIZE 128
#define TOTAL_MAX_ARGS 60
#define DEFAULT_MAXARGS 20
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

struct event {
	__u64 ts_us;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__s32 retval;
	__s32 args_count;   /* > max_args when the list was cut */
	__u32 args_size;
	char comm[16];      /* the task's name after exec */
	__u32 pad;          /* args start at sizeof(struct event): 64 */
	char args[];        /* args_size bytes */
};

/* What the kernel keeps per exec'ing thread: a record with room for its arguments. */
struct exec_buf {
	__u8 data[sizeof(struct event) + FULL_MAX_ARGS_ARR];
};

#endif
