// The server's CPU time and resident memory, read from /proc/PID.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace parley::loadgen {

// utime + stime in seconds; < 0 when the process cannot be read.
double cpu_seconds(pid_t pid);
// VmRSS in bytes; 0 when unknown.
uint64_t rss_bytes(pid_t pid);

}  // namespace parley::loadgen
