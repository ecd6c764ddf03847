/* syscount's aggregation value: key is the syscall number, or the TGID with -P. */
#ifndef __SYSCOUNT_H
#define __SYSCOUNT_H

struct data_t {
	__u64 count;
	__u64 total_ns;
	char comm[16];
};

#endif
