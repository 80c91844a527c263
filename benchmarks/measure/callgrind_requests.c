/* Callgrind's client requests as plain C functions, so Python can call them through ctypes.
 *
 * benchmarks/measure/callgrind.py compiles this file, and the interpreter that callgrind runs
 * (benchmarks/measure/cost_child.py) loads it: a client request works in every process valgrind
 * runs, forked ones included, where callgrind_control cannot reach. Outside valgrind each call
 * does nothing.
 */
#include <valgrind/callgrind.h>

void instrumentation_on(void) { CALLGRIND_START_INSTRUMENTATION; }

void instrumentation_off(void) { CALLGRIND_STOP_INSTRUMENTATION; }

void zero(void) { CALLGRIND_ZERO_STATS; }

void dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
