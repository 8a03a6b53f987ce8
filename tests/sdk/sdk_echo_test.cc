// The echo example (sdk/examples/echo) served by parleyd, and the rule that a
// plugin exports only the three SDK entry points.
#include <parley/echo_generated.h>

#include <algorithm>
#include <cstdlib>

#include "sdk_test_util.h"

namespace sdk_test {
namespace {

// PARLEY_ECHO_PATH: an out-of-tree build of the example to load instead
// (tests/sdk/out_of_tree_echo_test.sh sets it).
TEST(SdkEcho, ServesEchoSay) {
  ServerOptions o;  // by default echo lives in the regular plugin directory
  const char* path = std::getenv("PARLEY_ECHO_PATH");
  o.plugins_yaml = std::string("echo: {") + (path ? std::string("path: ") + path + ", " : "") +
                   "config: {prefix: 'echo: '}}";
  std::string error;
  auto server = ServerProcess::start(o, &error);
  ASSERT_TRUE(server) << error;
  auto c = client(*server);
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::echo::CreateSayRequest(fbb, fbb.CreateString("hello")), "PECH");
  Incoming r = c->call("echo.say", fbb);
  ASSERT_TRUE(r.ok()) << r.error;
  auto* reply = parley::test::payload_as<parley::echo::SayReply>(r, "PECH");
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->text()->str(), "echo: hello");
  // A payload that is not a SayRequest is InvalidArgument; the connection stays.
  EXPECT_EQ(c->call("echo.say", bytes("junk")).status, PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(c->call("sys.ping").ok());
  if (path) {
    EXPECT_NE(server->log().find(std::string("loaded from ") + path), std::string::npos);
  }
}

std::vector<std::string> exported(const std::string& lib) {
  std::string out;
  int rc = parley::test::run_program(PARLEY_NM, {"-D", "--defined-only", lib}, &out);
  EXPECT_EQ(rc, 0) << out;
  std::vector<std::string> syms;
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    std::string line = out.substr(start, nl - start);
    size_t sp = line.rfind(' ');
    if (!line.empty() && sp != std::string::npos) syms.push_back(line.substr(sp + 1));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  std::sort(syms.begin(), syms.end());
  return syms;
}

TEST(SdkExports, PluginsExportOnlyTheEntryPoints) {
  const std::vector<std::string> want = {"parley_plugin_abi", "parley_plugin_init",
                                         "parley_plugin_shutdown"};
  EXPECT_EQ(exported(parley::test::plugin_dir() + "/libecho.so"), want);
  // C++ test plugins using shared_ptr & co. too (the version script at work).
  EXPECT_EQ(exported(parley::test::test_plugin_dir() + "/libtworker.so"), want);
  EXPECT_EQ(exported(parley::test::test_plugin_dir() + "/libtabiv1.so"), want);
}

}  // namespace
}  // namespace sdk_test
