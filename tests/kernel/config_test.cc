// load_config: defaults, --set overrides, and errors that name the file,
// the line and the key path.
#include "config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace parley::kernel {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/parley-config-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& yaml) {
    std::string path = dir_ + "/parley.yaml";
    std::ofstream(path) << yaml;
    return path;
  }
  bool load(const std::string& yaml, std::vector<std::string> sets = {}) {
    path_ = write(yaml);
    error_.clear();
    return load_config(path_, sets, "/opt/parley/bin", &config_, &error_);
  }

  std::string dir_, path_, error_;
  Config config_;
};

constexpr char kValid[] = R"(data_dir: /var/lib/parley
listeners:
  - name: main
    address: 127.0.0.1
    port: 7443
    tls: {dev: true}
  - name: plain
    address: "::1"
    port: 0
    tls: off
limits:
  max_frame_bytes: 65536
timeouts:
  idle_ms: 3000
logging:
  level: debug
  format: json
plugins:
  auth: {config: {token_ttl: 2s}}
)";

TEST_F(ConfigTest, ValidFileLoads) {
  ASSERT_TRUE(load(kValid)) << error_;
  EXPECT_EQ(config_.data_dir, "/var/lib/parley");
  ASSERT_EQ(config_.listeners.size(), 2u);
  EXPECT_EQ(config_.listeners[0].port, 7443);
  EXPECT_TRUE(config_.listeners[0].tls.enabled);
  EXPECT_TRUE(config_.listeners[0].tls.dev);
  EXPECT_EQ(config_.listeners[0].tls.cert, "/var/lib/parley/dev-cert.pem");
  EXPECT_EQ(config_.listeners[0].tls.key, "/var/lib/parley/dev-key.pem");
  EXPECT_FALSE(config_.listeners[1].tls.enabled);
  EXPECT_EQ(config_.listeners[1].address, "::1");
  EXPECT_EQ(config_.limits.max_frame_bytes, 65536u);
  EXPECT_EQ(config_.limits.idle_ms, 3000u);
  EXPECT_EQ(config_.limits.handshake_ms, 10000u);  // default kept
  EXPECT_EQ(config_.log_level, log::Level::Debug);
  EXPECT_TRUE(config_.log_json);
  EXPECT_EQ(config_.plugin_dir, "/opt/parley/lib/parley/plugins");
  ASSERT_TRUE(config_.plugins["auth"]);
  EXPECT_EQ(config_.plugins["auth"]["config"]["token_ttl"].as<std::string>(), "2s");
  EXPECT_EQ(config_.plugins["auth"].Mark().line + 1, 19);  // marks preserved
}

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
  ASSERT_TRUE(load("")) << error_;
  EXPECT_TRUE(config_.listeners.empty());
  EXPECT_EQ(config_.limits.max_frame_bytes, 1u << 20);
  EXPECT_EQ(config_.limits.max_inflight_requests, 256u);
  EXPECT_EQ(config_.limits.max_pending_bytes, 8ull << 20);
  EXPECT_EQ(config_.limits.max_pending_bytes_unauthenticated, 64ull << 10);
  EXPECT_EQ(config_.limits.drain_ms, 5000u);
  EXPECT_TRUE(config_.plugins.IsMap());
  EXPECT_TRUE(std::filesystem::path(config_.data_dir).is_absolute());
}

TEST_F(ConfigTest, SetOverridesScalarsAndListItems) {
  ASSERT_TRUE(load(kValid, {"listeners.0.port=0", "data_dir=/tmp/x",
                            "timeouts.handshake_ms=2000", "listeners.1.address=127.0.0.1"}))
      << error_;
  EXPECT_EQ(config_.listeners[0].port, 0);
  EXPECT_EQ(config_.listeners[1].address, "127.0.0.1");
  EXPECT_EQ(config_.data_dir, "/tmp/x");
  EXPECT_EQ(config_.limits.handshake_ms, 2000u);
}

TEST_F(ConfigTest, SetCreatesMissingMapKeys) {
  ASSERT_TRUE(load("data_dir: /d\n", {"limits.max_connections=3",
                                      "plugins.echo.config.greeting=hi"}))
      << error_;
  EXPECT_EQ(config_.limits.max_connections, 3u);
  EXPECT_EQ(config_.plugins["echo"]["config"]["greeting"].as<std::string>(), "hi");
}

TEST_F(ConfigTest, SetAppendsAListItemAtIndexSize) {
  ASSERT_TRUE(load(kValid, {"listeners.2.name=extra", "listeners.2.port=0",
                            "listeners.2.tls=off"}))
      << error_;
  ASSERT_EQ(config_.listeners.size(), 3u);
  EXPECT_EQ(config_.listeners[2].name, "extra");
  EXPECT_EQ(config_.listeners[2].address, "127.0.0.1");
}

TEST_F(ConfigTest, SetIndexBeyondTheListIsAnError) {
  EXPECT_FALSE(load(kValid, {"listeners.7.port=1"}));
  EXPECT_NE(error_.find("listeners.7.port"), std::string::npos) << error_;
}

TEST_F(ConfigTest, SetWithoutEqualsIsAnError) {
  EXPECT_FALSE(load(kValid, {"limits.max_connections"}));
  EXPECT_NE(error_.find("key.path=value"), std::string::npos) << error_;
}

TEST_F(ConfigTest, OutOfRangeNamesFileLineAndKey) {
  EXPECT_FALSE(load("data_dir: /d\nlimits:\n  max_frame_bytes: 12\n"));
  EXPECT_EQ(error_, path_ + ":3: limits.max_frame_bytes: expected an integer between 64 and 67108864");
}

TEST_F(ConfigTest, UnauthenticatedPendingLimitIsValidated) {
  ASSERT_TRUE(load("data_dir: /d\nlimits:\n  max_pending_bytes_unauthenticated: 4096\n"))
      << error_;
  EXPECT_EQ(config_.limits.max_pending_bytes_unauthenticated, 4096u);
  EXPECT_FALSE(load("data_dir: /d\nlimits:\n  max_pending_bytes_unauthenticated: 100\n"));
  EXPECT_EQ(error_, path_ + ":3: limits.max_pending_bytes_unauthenticated: expected an integer "
                            "between 1024 and 1099511627776");
}

TEST_F(ConfigTest, WrongTypeNamesFileLineAndKey) {
  EXPECT_FALSE(load("timeouts:\n  idle_ms: soon\n"));
  EXPECT_EQ(error_, path_ + ":2: timeouts.idle_ms: expected an integer between 10 and 86400000");
  EXPECT_FALSE(load("listeners: {name: x}\n"));
  EXPECT_EQ(error_, path_ + ":1: listeners: expected a list");
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineAndKey) {
  EXPECT_FALSE(load("data_dir: /d\nlimits:\n  max_frame_byte: 100\n"));
  EXPECT_EQ(error_.rfind(path_ + ":3: limits.max_frame_byte: unknown key", 0), 0u) << error_;
  EXPECT_FALSE(load("data_dirr: /d\n"));
  EXPECT_EQ(error_.rfind(path_ + ":1: data_dirr: unknown key", 0), 0u) << error_;
}

TEST_F(ConfigTest, ListenerErrors) {
  EXPECT_FALSE(load("listeners:\n  - {name: a, port: 70000, tls: off}\n"));
  EXPECT_EQ(error_, path_ + ":2: listeners.0.port: expected an integer between 0 and 65535");
  EXPECT_FALSE(load("listeners:\n  - {name: a, port: 1}\n"));
  EXPECT_NE(error_.find("listeners.0.tls: required"), std::string::npos) << error_;
  EXPECT_FALSE(load("listeners:\n  - {name: a, port: 1, tls: {cert: c.pem}}\n"));
  EXPECT_NE(error_.find("listeners.0.tls.key: required"), std::string::npos) << error_;
  EXPECT_FALSE(load("listeners:\n  - {name: a, port: 1, tls: on}\n"));
  EXPECT_NE(error_.find("listeners.0.tls: expected a map"), std::string::npos) << error_;
  EXPECT_FALSE(load("listeners:\n  - {name: a, port: 1, tls: off}\n  - {name: a, port: 2, tls: off}\n"));
  EXPECT_NE(error_.find("duplicate listener name"), std::string::npos) << error_;
}

TEST_F(ConfigTest, LoggingErrors) {
  EXPECT_FALSE(load("logging:\n  level: loud\n"));
  EXPECT_EQ(error_, path_ + ":2: logging.level: expected one of: debug, info, warn, error");
  EXPECT_FALSE(load("logging:\n  format: xml\n"));
  EXPECT_EQ(error_, path_ + ":2: logging.format: expected text or json");
}

TEST_F(ConfigTest, BadValueFromSetNamesTheOverride) {
  EXPECT_FALSE(load(kValid, {"limits.max_frame_bytes=huge"}));
  EXPECT_EQ(error_, "--set limits.max_frame_bytes=huge: limits.max_frame_bytes: expected an "
                    "integer between 64 and 67108864");
}

TEST_F(ConfigTest, YamlSyntaxErrorHasTheLine) {
  EXPECT_FALSE(load("data_dir: /d\nlimits: [1,\n"));
  EXPECT_EQ(error_.rfind(path_ + ":", 0), 0u) << error_;
}

TEST_F(ConfigTest, MissingFileIsAnError) {
  Config c;
  std::string err;
  EXPECT_FALSE(load_config(dir_ + "/nope.yaml", {}, "/x", &c, &err));
  EXPECT_NE(err.find("cannot read"), std::string::npos);
}

TEST_F(ConfigTest, RelativePathsResolveAgainstTheWorkingDirectory) {
  ASSERT_TRUE(load("data_dir: ./rel\nplugin_dir: plugs\n")) << error_;
  auto cwd = std::filesystem::current_path();
  EXPECT_EQ(config_.data_dir, (cwd / "rel").lexically_normal().string());
  EXPECT_EQ(config_.plugin_dir, (cwd / "plugs").lexically_normal().string());
}

TEST_F(ConfigTest, ShippedConfigsAreValid) {
  for (const char* name : {"parley.yaml", "parley.example.yaml"}) {
    Config c;
    std::string err;
    std::string path = std::string(PARLEY_KERNEL_TEST_SOURCE_DIR) + "/config/" + name;
    EXPECT_TRUE(load_config(path, {}, "/x", &c, &err)) << err;
    EXPECT_EQ(c.listeners.size(), 1u) << name;
  }
}

}  // namespace
}  // namespace parley::kernel

namespace parley::kernel {
namespace {

TEST(ConfigSet, ListenersFromNothingButSets) {
  Config c;
  std::string err;
  ASSERT_TRUE(load_config("", {"listeners.0.name=main", "listeners.0.port=0", "listeners.0.tls=off"},
                          "/x", &c, &err))
      << err;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "main");
  EXPECT_FALSE(c.listeners[0].tls.enabled);
}

}  // namespace
}  // namespace parley::kernel
