/* runqlat's histogram: key 0 (all), a TGID (-P) or a TID (-L); value from common/hist.h. */
#ifndef __RUNQLAT_H
#define __RUNQLAT_H
#include "hist.h"
#endif
