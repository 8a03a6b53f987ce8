// Helpers shared by the SDK scenarios: parleyd with the test plugins
// (build/lib/parley/test-plugins), text payloads, refusal runs.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <parley/plugin.h>

#include "parley_test.h"

namespace sdk_test {

using parley::test::Client;
using parley::test::Incoming;
using parley::test::ServerOptions;
using parley::test::ServerProcess;

inline std::vector<uint8_t> bytes(std::string_view s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

inline std::string text(const Incoming& in) {
  auto p = in.payload();
  return std::string(reinterpret_cast<const char*>(p.data()), p.size());
}

// parleyd loading `plugins_yaml` (the body of `plugins:`) from the test
// plugin directory.
inline std::unique_ptr<ServerProcess> start(const std::string& plugins_yaml,
                                            std::string extra_yaml = "") {
  ServerOptions o;
  o.plugins_yaml = plugins_yaml;
  o.plugin_dir = parley::test::test_plugin_dir();
  o.extra_yaml = std::move(extra_yaml);
  std::string error;
  auto server = ServerProcess::start(o, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

// A connected client that has said hello.
inline std::unique_ptr<Client> client(ServerProcess& server) {
  std::string error;
  auto c = Client::connect("127.0.0.1", server.port(), {}, &error);
  EXPECT_TRUE(c) << error;
  if (c) c->hello();
  return c;
}

struct RunResult {
  int code = -1;
  std::string output;
};

// Runs parleyd to completion with `plugins_yaml` under `plugins:` and the
// test plugin directory; a refused start exits 2 at once.
inline RunResult run_refused(const std::string& plugins_yaml) {
  parley::test::TempDir dir("parley-sdk-refusal");
  std::string yaml = "data_dir: " + dir.path() + "/data\n" +
                     "plugin_dir: " + parley::test::test_plugin_dir() + "\n" +
                     "listeners:\n  - {name: main, address: 127.0.0.1, port: 0, tls: off}\n" +
                     "plugins:\n";
  size_t start = 0;
  while (start < plugins_yaml.size()) {
    size_t nl = plugins_yaml.find('\n', start);
    if (nl == std::string::npos) nl = plugins_yaml.size();
    yaml += "  " + plugins_yaml.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  std::string path = dir.path() + "/parley.yaml";
  EXPECT_TRUE(parley::test::write_file(path, yaml));
  RunResult r;
  r.code = ServerProcess::run_to_exit({"--config", path}, &r.output, 10000);
  return r;
}

}  // namespace sdk_test
