// Every start refusal: parleyd exits with code 2 and one readable line that
// names the plugin and the reason.
#include "sdk_test_util.h"

namespace sdk_test {
namespace {

// The refusal line parleyd prints: "parleyd: plugin <name>: <reason>".
void expect_refused(const std::string& plugins_yaml, const std::string& line) {
  RunResult r = run_refused(plugins_yaml);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("parleyd: " + line + "\n"), std::string::npos)
      << "expected the line:\n  parleyd: " << line << "\noutput:\n" << r.output;
}

TEST(SdkRefusal, MissingFile) {
  expect_refused("ghost: {path: /nonexistent/libghost.so}",
                 "plugin ghost: no such file: /nonexistent/libghost.so");
  // The default path is <plugin_dir>/lib<name>.so.
  expect_refused("nothere: {}", "plugin nothere: no such file: " +
                                    parley::test::test_plugin_dir() + "/libnothere.so");
}

TEST(SdkRefusal, NotAPlugin) {
  parley::test::TempDir dir("parley-sdk-junk");
  std::string path = dir.path() + "/libjunk.so";
  ASSERT_TRUE(parley::test::write_file(path, "this is not an ELF file\n"));
  RunResult r = run_refused("junk: {path: " + path + "}");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("parleyd: plugin junk: cannot load " + path + ": "), std::string::npos)
      << r.output;
}

TEST(SdkRefusal, MissingEntrySymbol) {
  expect_refused("tnoinit: {}", "plugin tnoinit: " + parley::test::test_plugin_dir() +
                                    "/libtnoinit.so is not a Parley plugin: missing entry "
                                    "symbol parley_plugin_init");
}

TEST(SdkRefusal, UnsupportedAbiMajor) {
  expect_refused("tabi2: {}",
                 "plugin tabi2: unsupported ABI: the plugin speaks none of this parleyd's ABI "
                 "majors (this parleyd supports ABI major 1)");
}

TEST(SdkRefusal, WrongBuildSignature) {
  expect_refused("tsig: {}",
                 "plugin tsig: wrong build signature: the plugin was built as "
                 "'parley-abi1;asan;tsan', this parleyd is '" PARLEY_BUILD_SIGNATURE "'");
}

TEST(SdkRefusal, InitFailure) {
  expect_refused("tinitfail: {}", "plugin tinitfail: init failed: database is on fire");
}

TEST(SdkRefusal, MethodOutsideNamespace) {
  expect_refused("tbadns: {}",
                 "plugin tbadns: method 'other.verb' is outside the plugin's namespace 'tbadns.'");
}

TEST(SdkRefusal, DuplicateMethodEvenIfThePluginIgnoresTheError) {
  expect_refused("tdup: {}", "plugin tdup: method 'tdup.x' is registered twice");
}

TEST(SdkRefusal, MissingRequiredService) {
  expect_refused("tneeds: {}",
                 "plugin tneeds: requires service 'nosuch', which no loaded plugin provides");
}

TEST(SdkRefusal, MissingApi) {
  expect_refused("tapi: {}",
                 "plugin tapi: init failed: the host lacks API function conn_frobnicate_v9");
}

TEST(SdkRefusal, OnAllLoadedFailure) {
  expect_refused("tlate: {}", "plugin tlate: on_all_loaded failed: storage service missing");
}

TEST(SdkRefusal, NameMustMatchConfigKey) {
  expect_refused("other: {path: libtworker.so}",
                 "plugin other: set_info: plugin name 'tworker' differs from its config key "
                 "'other'");
}

TEST(SdkRefusal, UnknownPluginSettingAndUnknownConfigKey) {
  RunResult r = run_refused("tabiv1: {pth: x}");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("parley.yaml:6: plugins.tabiv1.pth: unknown setting"), std::string::npos)
      << r.output;
  r = run_refused("tabiv1: {config: {bse: 1}}");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("parleyd: plugin tabiv1: init failed: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("plugins.tabiv1.config.bse: unknown key (known: base)"),
            std::string::npos)
      << r.output;
  r = run_refused("tabiv1: {config: {base: 999}}");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("plugins.tabiv1.config.base: expected an integer between 0 and 255"),
            std::string::npos)
      << r.output;
}

TEST(SdkRefusal, DisabledPluginIsSkipped) {
  // A disabled plugin is not even opened, so its missing file is no refusal.
  auto server = start("ghost: {path: /nonexistent/libghost.so, enabled: false}\ntabiv1: {}");
  ASSERT_TRUE(server);
  EXPECT_NE(server->log().find("plugin ghost disabled"), std::string::npos);
}

}  // namespace
}  // namespace sdk_test
