#include "test_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace parley::test::client {

ServerOptions chat_server_options() {
  ServerOptions o;
  o.plugins_yaml =
      "persistence: {config: {durability: sync}}\n"
      "auth: {config: {argon2_memory_kib: 8, argon2_iterations: 1}}\n"
      "rooms: {}\n"
      "receipts: {}\n";
  return o;
}

std::unique_ptr<ServerProcess> start_chat_server() {
  std::string error;
  auto s = ServerProcess::start(chat_server_options(), &error);
  EXPECT_TRUE(s) << error;
  return s;
}

std::string unique_phone() {
  static std::atomic<int> counter{0};
  char phone[32];
  std::snprintf(phone, sizeof phone, "+1%05d%05d", static_cast<int>(getpid() % 100000),
                counter.fetch_add(1) % 100000);
  return phone;
}

}  // namespace parley::test::client
