// Terminal helpers: a password prompt without echo, and raw mode for chat.
#pragma once

#include <string>

namespace parley::cli {

// PARLEY_PASSWORD, else a prompt on /dev/tty with echo off. Throws
// Failure(kExitUsage) when neither is available.
std::string read_password(const std::string& prompt);

// Puts stdin into raw mode (no echo, no line buffering, no signals) for its
// lifetime when stdin is a terminal.
class RawMode {
 public:
  RawMode();
  ~RawMode();
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
};

}  // namespace parley::cli
