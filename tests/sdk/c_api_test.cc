// The host's get_api table: every function plugin.h names resolves, unknown
// names are ENOTSUP, and parley_sdk_load fills a plugin's table completely.
#include <gtest/gtest.h>

#include "c_api.h"
#include "parley/plugin.h"

namespace parley::kernel::host {
namespace {

TEST(CApi, EveryV1NameResolves) {
#define PARLEY_TEST_CHECK_(ret, name, args)                  \
  {                                                         \
    void* fn = nullptr;                                     \
    EXPECT_EQ(get_api(#name, &fn), 0) << #name;             \
    EXPECT_NE(fn, nullptr) << #name;                        \
  }
  PARLEY_API_V1(PARLEY_TEST_CHECK_)
#undef PARLEY_TEST_CHECK_
}

TEST(CApi, UnknownNameIsEnotsupAndNull) {
  void* fn = reinterpret_cast<void*>(1);
  EXPECT_EQ(get_api("conn_frobnicate_v9", &fn), PARLEY_ENOTSUP);
  EXPECT_EQ(fn, nullptr);
  EXPECT_EQ(get_api(nullptr, &fn), PARLEY_EINVAL);
}

TEST(CApi, SdkLoadFillsTheWholeTable) {
  parley_api api{};
  const char* missing = "x";
  EXPECT_EQ(parley_sdk_load(&get_api, &api, &missing), 0);
  EXPECT_EQ(missing, nullptr);
  EXPECT_NE(api.set_info, nullptr);
  EXPECT_NE(api.conn_virtual_gone, nullptr);
  EXPECT_NE(api.get_error, nullptr);
}

TEST(CApi, CallsWithoutAHostFailCleanly) {
  // No PluginHost exists in this process: calls report EUNAVAIL or nothing.
  parley_api api{};
  ASSERT_EQ(parley_sdk_load(&get_api, &api, nullptr), 0);
  EXPECT_EQ(api.post_to_loop([](void*) {}, nullptr), PARLEY_EUNAVAIL);
  EXPECT_EQ(api.get_service("storage", 1), nullptr);
  EXPECT_EQ(api.timer_stop(1), PARLEY_EUNAVAIL);
  api.metric_add(1, 1);  // no crash
}

}  // namespace
}  // namespace parley::kernel::host
