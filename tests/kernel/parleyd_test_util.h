// Shared bits of the parleyd integration tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "parley_test.h"

namespace parley::kernel_test {

using parley::test::Client;
using parley::test::ClientOptions;
using parley::test::Incoming;
using parley::test::ServerOptions;
using parley::test::ServerProcess;

inline constexpr uint16_t status_of(parley::Status s) { return static_cast<uint16_t>(s); }

inline std::unique_ptr<ServerProcess> start_server(ServerOptions options = {}) {
  std::string error;
  auto server = ServerProcess::start(options, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

inline std::unique_ptr<Client> connect(const ServerProcess& server, ClientOptions options = {}) {
  std::string error;
  auto client = Client::connect("127.0.0.1", server.port(), options, &error);
  EXPECT_TRUE(client) << error;
  return client;
}

// A connection that said hello; used as the "healthy second connection".
inline std::unique_ptr<Client> healthy(const ServerProcess& server, ClientOptions options = {}) {
  auto client = connect(server, options);
  if (client) client->hello();
  return client;
}

// The healthy connection still answers.
inline void expect_still_serves(Client& client) {
  Incoming pong = client.call("sys.ping");
  EXPECT_TRUE(pong.ok()) << pong.error;
}

// Waits for the server to close `client` and checks the sys.closing it sent.
inline void expect_closed_with(Client& client, parley::Status status, int timeout_ms = 5000) {
  ASSERT_TRUE(client.wait_closed(timeout_ms)) << "the server did not close the connection";
  auto closing = client.last_closing();
  ASSERT_TRUE(closing.has_value()) << "no sys.closing before the close";
  EXPECT_EQ(closing->kind, parley::Kind::Event);
  EXPECT_EQ(closing->status, status_of(status)) << closing->error;
  EXPECT_FALSE(closing->error.empty());
}

}  // namespace parley::kernel_test
