// Leveled, line-oriented logging for the kernel and (through the SDK) plugins.
// One event per line, `logging.format: text|json`. Thread-safe.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string_view>

namespace parley::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// Set once at start, before other threads exist.
void configure(Level level, bool json);
bool parse_level(std::string_view text, Level* out);
bool enabled(Level level);

// Writes one line to stderr: time, level, component, conn=<id> (when
// conn_id != 0) and the message. Thread-safe; lines never interleave.
void write(Level level, std::string_view component, uint64_t conn_id,
           std::string_view message);

// printf-style convenience over write().
void logf(Level level, std::string_view component, uint64_t conn_id,
          const char* fmt, ...) __attribute__((format(printf, 4, 5)));
void vlogf(Level level, std::string_view component, uint64_t conn_id,
           const char* fmt, va_list ap);

}  // namespace parley::log
