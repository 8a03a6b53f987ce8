// Kernel-side enforcement against a buggy plugin (tfail): a throwing handler
// gets Internal and a log line naming the plugin; a request never answered
// gets Internal when the plugin's deadline passes; a handler that returns
// without answering, a dropped Deferred, a double answer (ESTATE); methods
// needing a session before authentication; unknown methods; and the
// automatic per-plugin metrics.
#include "sdk_test_util.h"

namespace sdk_test {
namespace {

class SdkFailures : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start("tfail: {request_timeout_ms: 300}");
    ASSERT_TRUE(server_);
    c_ = client(*server_);
    ASSERT_TRUE(c_);
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> c_;
};

TEST_F(SdkFailures, ThrowingHandlerGetsInternalAndIsLogged) {
  Incoming r = c_->call("tfail.throw");
  EXPECT_EQ(r.status, PARLEY_STATUS_INTERNAL);
  EXPECT_TRUE(server_->wait_for_log("kaboom in handler", 2000));
  std::string log = server_->log();
  size_t at = log.find("kaboom in handler");
  size_t line = log.rfind('\n', at);
  EXPECT_NE(log.substr(line + 1, at - line).find("tfail"), std::string::npos)
      << "the line names the plugin: " << log.substr(line + 1, at - line);
  EXPECT_TRUE(c_->call("sys.ping").ok());  // the connection stays
}

TEST_F(SdkFailures, UnansweredRequestGetsInternalAtDeadline) {
  auto t0 = std::chrono::steady_clock::now();
  Incoming r = c_->call("tfail.hang", std::span<const uint8_t>{}, 5000);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, PARLEY_STATUS_INTERNAL);
  EXPECT_EQ(r.error, "plugin tfail did not answer in 300 ms");
  EXPECT_GE(ms, 250);
  EXPECT_TRUE(server_->wait_for_log("plugin tfail did not answer tfail.hang in 300 ms", 1000));
}

TEST_F(SdkFailures, HandlerReturningWithoutAnswerGetsInternal) {
  Incoming r = c_->call("tfail.forget");
  EXPECT_EQ(r.status, PARLEY_STATUS_INTERNAL);
  EXPECT_EQ(r.error, "plugin tfail did not answer tfail.forget");
}

TEST_F(SdkFailures, DroppedDeferredGetsInternal) {
  Incoming r = c_->call("tfail.drop");
  EXPECT_EQ(r.status, PARLEY_STATUS_INTERNAL);
  EXPECT_EQ(r.error, "request dropped by plugin");
}

TEST_F(SdkFailures, SecondAnswerIsEstateAndNotSent) {
  Incoming r = c_->call("tfail.twice");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(text(r), "first");
  EXPECT_EQ(text(c_->call("tfail.second_rc")), std::to_string(PARLEY_ESTATE));
  EXPECT_EQ(c_->drain_events(100).size(), 0u);
}

TEST_F(SdkFailures, NonPublicMethodBeforeAuthIsUnauthenticated) {
  Incoming r = c_->call("tfail.private");
  EXPECT_EQ(r.status, PARLEY_STATUS_UNAUTHENTICATED);
}

TEST_F(SdkFailures, UnknownMethodIsUnimplemented) {
  Incoming r = c_->call("tfail.nosuch");
  EXPECT_EQ(r.status, PARLEY_STATUS_UNIMPLEMENTED);
  EXPECT_EQ(c_->call("nobody.here").status, PARLEY_STATUS_UNIMPLEMENTED);
}

TEST_F(SdkFailures, ReplyToGoneConnectionIsDroppedSilently) {
  // The deferred request's connection leaves before the deadline; the server
  // stays healthy and logs no timeout for it.
  c_->send("tfail.hang");
  c_->call("sys.ping");
  c_->close();
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  auto c2 = client(*server_);
  EXPECT_TRUE(c2->call("sys.ping").ok());
  EXPECT_EQ(server_->count_in_log("did not answer tfail.hang"), 0u);
}

TEST_F(SdkFailures, PerPluginMetricsWithoutPluginCode) {
  c_->call("tfail.throw");
  c_->call("tfail.twice");
  std::string m = text(c_->call("tfail.metrics"));
  auto has = [&](const std::string& line) {
    EXPECT_NE(m.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << m;
  };
  has("parley_plugin_requests_total{plugin=\"tfail\",method=\"tfail.throw\"} 1");
  has("parley_plugin_request_errors_total{plugin=\"tfail\",method=\"tfail.throw\"} 1");
  has("parley_plugin_requests_total{plugin=\"tfail\",method=\"tfail.twice\"} 1");
  has("parley_plugin_request_errors_total{plugin=\"tfail\",method=\"tfail.twice\"} 0");
  has("parley_plugin_request_duration_seconds_count{plugin=\"tfail\",method=\"tfail.throw\"} 1");
  has("# TYPE parley_plugin_request_duration_seconds histogram");
  has("parley_tfail_handled_total 1");
  has("parley_connections_open 1");
}

}  // namespace
}  // namespace sdk_test
