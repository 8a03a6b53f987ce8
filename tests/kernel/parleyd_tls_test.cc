// TLS policy: 1.3 preferred, 1.2 accepted, 1.1 refused, ALPN parley/1
// required when ALPN is offered, the development certificate; plus the
// command line (--check-config, --version) and listener logging.
#include <openssl/ssl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "parleyd_test_util.h"

namespace parley::kernel_test {
namespace {

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start_server();
    ASSERT_TRUE(server_);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(Tls, DefaultNegotiatesTls13WithAlpn) {
  auto c = healthy(*server_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tls_version(), "TLSv1.3");
  EXPECT_EQ(c->alpn_selected(), "parley/1");
}

TEST_F(Tls, Tls12IsAccepted) {
  ClientOptions o;
  o.max_tls = TLS1_2_VERSION;
  auto c = healthy(*server_, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tls_version(), "TLSv1.2");
}

TEST_F(Tls, Tls11IsRefused) {
  ClientOptions o;
  o.min_tls = TLS1_1_VERSION;
  o.max_tls = TLS1_1_VERSION;
  std::string error;
  EXPECT_FALSE(Client::connect("127.0.0.1", server_->port(), o, &error));
  auto good = healthy(*server_);
  ASSERT_TRUE(good);
  expect_still_serves(*good);
}

TEST_F(Tls, AlpnWithoutParleyIsRefused) {
  ClientOptions o;
  o.alpn = "h2,http/1.1";
  std::string error;
  EXPECT_FALSE(Client::connect("127.0.0.1", server_->port(), o, &error));
  EXPECT_TRUE(server_->wait_for_log("no application protocol", 2000));
  auto good = healthy(*server_);
  ASSERT_TRUE(good);
  expect_still_serves(*good);
}

TEST_F(Tls, NoAlpnIsAccepted) {
  ClientOptions o;
  o.alpn = "";
  auto c = healthy(*server_, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->alpn_selected(), "");
  expect_still_serves(*c);
}

TEST_F(Tls, AlpnListContainingParleyIsAccepted) {
  ClientOptions o;
  o.alpn = "h2,parley/1";
  auto c = healthy(*server_, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->alpn_selected(), "parley/1");
}

TEST_F(Tls, DevCertificateIsGeneratedAndLogged) {
  EXPECT_NE(server_->log().find("generated a self-signed development certificate"),
            std::string::npos);
  EXPECT_EQ(server_->count_in_log("listening name=main address=127.0.0.1 port="), 1u);
}

// Runs parleyd with `args`; returns the exit code and fills *out.
int run_parleyd(const std::string& args, std::string* out) {
  std::string cmd = parley::test::parleyd_path() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Cli, CheckConfigAcceptsTheShippedConfigs) {
  std::string out;
  EXPECT_EQ(run_parleyd("--check-config --config " + std::string(PARLEY_KERNEL_TEST_SOURCE_DIR) +
                            "/config/parley.yaml", &out), 0) << out;
  EXPECT_EQ(run_parleyd("--check-config --config " + std::string(PARLEY_KERNEL_TEST_SOURCE_DIR) +
                            "/config/parley.example.yaml", &out), 0) << out;
}

TEST(Cli, CheckConfigReportsPathLineAndKey) {
  parley::test::TempDir dir;
  std::string path = dir.path() + "/bad.yaml";
  ASSERT_TRUE(parley::test::write_file(path, "data_dir: /tmp\nlimits:\n  max_frame_bytes: 1\n"));
  std::string out;
  EXPECT_EQ(run_parleyd("--check-config --config " + path, &out), 1);
  EXPECT_NE(out.find(path + ":3: limits.max_frame_bytes: expected an integer between 64 and"),
            std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run_parleyd("--check-config --config " + path + " --set limits.max_frame_bytes=512",
                        &out), 0) << out;
}

TEST(Cli, VersionAndHelp) {
  std::string out;
  EXPECT_EQ(run_parleyd("--version", &out), 0);
  EXPECT_EQ(out.rfind("parleyd ", 0), 0u) << out;
  out.clear();
  EXPECT_EQ(run_parleyd("--help", &out), 0);
  EXPECT_NE(out.find("--check-config"), std::string::npos);
  out.clear();
  EXPECT_EQ(run_parleyd("--bogus", &out), 1);
}

}  // namespace
}  // namespace parley::kernel_test

namespace parley::kernel_test {
namespace {

TEST(Cli, PluginHostRefusalExitsTwoWithOneLine) {
  parley::test::TempDir dir;
  std::string out;
  int code = run_parleyd("--set data_dir=" + dir.path() +
                             " --set listeners.0.name=main --set listeners.0.port=0"
                             " --set listeners.0.tls=off --set 'plugins.no_such_plugin={}'",
                         &out);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("no_such_plugin"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST(Cli, ListenerThatCannotBindExitsOne) {
  parley::test::TempDir dir;
  std::string out;
  int code = run_parleyd("--set data_dir=" + dir.path() +
                             " --set listeners.0.name=main --set listeners.0.port=0"
                             " --set listeners.0.tls=off --set listeners.0.address=203.0.113.7",
                         &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("listener main"), std::string::npos) << out;
}

}  // namespace
}  // namespace parley::kernel_test
