// The plugin config view (SDK config_get_* / config_declare_keys): typed
// getters with defaults, range checks, and errors naming file, line and the
// full key path.
#include <gtest/gtest.h>

#include "config_view.h"
#include "plugin_record.h"

namespace parley::kernel::host {
namespace {

struct ConfigFixture : ::testing::Test {
  void load(const char* yaml) {
    plugin.key = plugin.name = "demo";
    cfg.node.reset(YAML::Load(yaml));
    cfg.key_path = "plugins.demo.config";
    cfg.source = "parley.yaml";
    cfg.owner = &plugin;
  }
  parley_plugin plugin;
  parley_config cfg;
};

TEST_F(ConfigFixture, MissingKeysYieldDefaults) {
  load("{}");
  const char* s = nullptr;
  int64_t i = 0;
  int b = 0;
  double d = 0;
  size_t n = 9;
  EXPECT_EQ(config_get_string(&cfg, "a.b", "dflt", &s), 0);
  EXPECT_STREQ(s, "dflt");
  EXPECT_EQ(config_get_int(&cfg, "x", 42, 0, 100, &i), 0);
  EXPECT_EQ(i, 42);
  EXPECT_EQ(config_get_bool(&cfg, "y", 1, &b), 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(config_get_double(&cfg, "z", 2.5, &d), 0);
  EXPECT_EQ(d, 2.5);
  EXPECT_EQ(config_list_size(&cfg, "l", &n), 0);
  EXPECT_EQ(n, 0u);
}

TEST_F(ConfigFixture, ReadsNestedValuesAndListItems) {
  load("name: bob\nlimits:\n  max: 7\n  on: yes\nratio: 0.25\nitems:\n  - {max: 3}\n  - {max: 4}\n");
  const char* s = nullptr;
  int64_t i = 0;
  int b = 0;
  double d = 0;
  size_t n = 0;
  EXPECT_EQ(config_get_string(&cfg, "name", nullptr, &s), 0);
  EXPECT_STREQ(s, "bob");
  EXPECT_EQ(config_get_int(&cfg, "limits.max", 0, 1, 10, &i), 0);
  EXPECT_EQ(i, 7);
  EXPECT_EQ(config_get_bool(&cfg, "limits.on", 0, &b), 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(config_get_double(&cfg, "ratio", 0, &d), 0);
  EXPECT_EQ(d, 0.25);
  EXPECT_EQ(config_list_size(&cfg, "items", &n), 0);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(config_get_int(&cfg, "items.1.max", 0, INT64_MIN, INT64_MAX, &i), 0);
  EXPECT_EQ(i, 4);
  EXPECT_EQ(config_get_int(&cfg, "items.5.max", -1, INT64_MIN, INT64_MAX, &i), 0);
  EXPECT_EQ(i, -1);
}

TEST_F(ConfigFixture, WrongTypeNamesFileLineAndKeyPath) {
  load("a: 1\nlimits:\n  max: lots\n");
  int64_t i = 0;
  EXPECT_EQ(config_get_int(&cfg, "limits.max", 0, 1, 10, &i), PARLEY_ECONFIG);
  EXPECT_EQ(plugin.error,
            "parley.yaml:3: plugins.demo.config.limits.max: expected an integer between 1 and 10");
}

TEST_F(ConfigFixture, OutOfRangeIsAnError) {
  load("max: 11\n");
  int64_t i = 0;
  EXPECT_EQ(config_get_int(&cfg, "max", 0, 1, 10, &i), PARLEY_ECONFIG);
  EXPECT_NE(plugin.error.find("plugins.demo.config.max"), std::string::npos);
}

TEST_F(ConfigFixture, BadBoolAndMapAsString) {
  load("flag: maybe\nsub: {a: 1}\nlist: 3\n");
  int b = 0;
  const char* s = nullptr;
  size_t n = 0;
  EXPECT_EQ(config_get_bool(&cfg, "flag", 0, &b), PARLEY_ECONFIG);
  EXPECT_NE(plugin.error.find("expected true or false"), std::string::npos);
  EXPECT_EQ(config_get_string(&cfg, "sub", "", &s), PARLEY_ECONFIG);
  EXPECT_NE(plugin.error.find("plugins.demo.config.sub: expected a string"), std::string::npos);
  EXPECT_EQ(config_list_size(&cfg, "list", &n), PARLEY_ECONFIG);
}

TEST_F(ConfigFixture, DeclaredKeysAcceptKnownAndRejectUnknown) {
  load("prefix: x\nlimits:\n  max: 1\n  typo: 2\n");
  const char* top[] = {"prefix", "limits"};
  EXPECT_EQ(config_declare_keys(&cfg, top, 2), 0);  // "limits" accepts its subtree
  const char* nested[] = {"prefix", "limits.max"};
  EXPECT_EQ(config_declare_keys(&cfg, nested, 2), PARLEY_ECONFIG);
  EXPECT_EQ(plugin.error,
            "parley.yaml:4: plugins.demo.config.limits.typo: unknown key (known: max)");
  const char* only[] = {"limits"};
  EXPECT_EQ(config_declare_keys(&cfg, only, 1), PARLEY_ECONFIG);
  EXPECT_EQ(plugin.error, "parley.yaml:1: plugins.demo.config.prefix: unknown key (known: limits)");
}

TEST_F(ConfigFixture, AbsentSubtreeAcceptsAnyDeclaration) {
  load("~");
  const char* keys[] = {"a"};
  EXPECT_EQ(config_declare_keys(&cfg, keys, 1), 0);
}

}  // namespace
}  // namespace parley::kernel::host
