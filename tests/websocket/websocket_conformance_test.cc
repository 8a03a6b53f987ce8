// WebSocket conformance (Autobahn-style sections 1-7, 9, 10) of the bridge:
// a real parleyd with the websocket plugin, driven by conformance.js, a
// raw-frame client under node that checks every case against RFC 6455 and
// PROTOCOL.md §8 and that the server still completes sys.hello on a fresh
// connection after each one. The case table and expectations live in the
// driver; this test starts the server, runs the driver and requires zero
// failures and a clean server exit (no handle left open, no sanitizer report).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "parley_test.h"

namespace parley::test::ws {
namespace {

constexpr int kMaxMessageBytes = 262144;

// Runs the driver against a fresh server whose bridge gets `extra_config`;
// `tls` runs every case over wss:// instead of ws://.
void run_cases(const std::string& extra_config, bool tls) {
  ServerOptions o;
  o.plugins_yaml = "websocket:\n  config:\n    port: 0\n    max_frame_bytes: " +
                   std::to_string(kMaxMessageBytes) + "\n" + extra_config;
  o.wait_listeners = {"main", "websocket"};
  std::string error;
  auto server = ServerProcess::start(o, &error);
  ASSERT_TRUE(server) << error;
  int port = server->port("websocket");
  ASSERT_GT(port, 0);

  std::string cmd = std::string(tls ? "CONFORMANCE_TLS=1 " : "") + PARLEY_NODE + " " +
                    PARLEY_CONFORMANCE_JS + " " + std::to_string(port) + " " +
                    std::to_string(kMaxMessageBytes) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr) << cmd;
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  std::printf("%s", out.c_str());  // the summary line (and any failures) in the test log
  EXPECT_EQ(status, 0) << "the driver's output is above";
  EXPECT_NE(out.find("conformance"), std::string::npos);
  EXPECT_NE(out.find(" passed, 0 failed"), std::string::npos);
  EXPECT_TRUE(server->alive()) << server->log();
  EXPECT_EQ(server->stop(), 0) << "parleyd did not stop cleanly:\n" << server->log();
}

TEST(WebSocketConformance, AutobahnStyleCases) { run_cases("", false); }

// The same cases through the bridge's TLS channel (records split frames
// differently; the close and FIN go through SSL_write).
TEST(WebSocketConformance, AutobahnStyleCasesOverTls) {
  SelfSignedCert tls;
  ASSERT_TRUE(tls.ok) << tls.output;
  run_cases("    cert: '" + tls.cert + "'\n    key: '" + tls.key + "'\n", true);
}

}  // namespace
}  // namespace parley::test::ws
