#include "log.h"

#include <parley/util/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace parley::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::Info)};
bool g_json = false;
std::mutex g_mutex;

const char* level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void configure(Level level, bool json) {
  g_level.store(static_cast<int>(level));
  g_json = json;
}

bool parse_level(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::Debug;
  else if (text == "info") *out = Level::Info;
  else if (text == "warn") *out = Level::Warn;
  else if (text == "error") *out = Level::Error;
  else return false;
  return true;
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view component, uint64_t conn_id,
           std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(64 + message.size());
  if (g_json) {
    line += "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) +
            "\",\"component\":";
    util::append_json_string(line, component);
    if (conn_id != 0) line += ",\"conn\":" + std::to_string(conn_id);
    line += ",\"msg\":";
    util::append_json_string(line, message);
    line += "}\n";
  } else {
    line += timestamp();
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += component;
    if (conn_id != 0) line += " conn=" + std::to_string(conn_id);
    line += ' ';
    line += message;
    line += '\n';
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void vlogf(Level level, std::string_view component, uint64_t conn_id,
           const char* fmt, va_list ap) {
  if (!enabled(level)) return;
  char stack[512];
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(stack, sizeof stack, fmt, copy);
  va_end(copy);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof stack) {
    write(level, component, conn_id, std::string_view(stack, n));
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  big.resize(static_cast<size_t>(n));
  write(level, component, conn_id, big);
}

void logf(Level level, std::string_view component, uint64_t conn_id,
          const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlogf(level, component, conn_id, fmt, ap);
  va_end(ap);
}

}  // namespace parley::log
