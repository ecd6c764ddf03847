/* biolatency's histogram key: a disk (dev_t, kernel encoding) and/or the request's rwbs flags. */
#ifndef __BIOLATENCY_H
#define __BIOLATENCY_H
#include "hist.h"

struct hist_key {
	__u32 dev;      /* 0 unless per disk */
	char rwbs[12];  /* empty unless per flags: R W D F S M ... as the block tracepoints print them */
};

#endif
