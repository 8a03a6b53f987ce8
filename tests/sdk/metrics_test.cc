// The metrics registry behind metric_* and metrics_render: Prometheus text
// exposition, label sets, histogram buckets, thread-safe updates.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "metrics.h"

namespace parley::kernel::host {
namespace {

TEST(Metrics, RendersCounterGaugeWithHelpAndType) {
  Metrics m;
  uint64_t c = m.add(Metrics::Kind::Counter, "parley_demo_hits_total", "Hits.");
  uint64_t g = m.add(Metrics::Kind::Gauge, "parley_demo_level", "Level.");
  m.add_value(c, 2);
  m.add_value(c, 1);
  m.set_value(g, 7.5);
  std::string text = m.render();
  EXPECT_NE(text.find("# HELP parley_demo_hits_total Hits.\n# TYPE parley_demo_hits_total counter\n"
                      "parley_demo_hits_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE parley_demo_level gauge\nparley_demo_level 7.5\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  uint64_t h = m.add(Metrics::Kind::Histogram, "lat_seconds", "Latency.", "plugin=\"x\"");
  m.observe(h, 0.0007);
  m.observe(h, 0.3);
  m.observe(h, 100);
  std::string text = m.render();
  EXPECT_NE(text.find("lat_seconds_bucket{plugin=\"x\",le=\"0.0005\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{plugin=\"x\",le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{plugin=\"x\",le=\"0.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{plugin=\"x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{plugin=\"x\"} 3\n"), std::string::npos);
}

TEST(Metrics, SameSeriesSameIdOtherKindOrBadNameRefused) {
  Metrics m;
  uint64_t a = m.add(Metrics::Kind::Counter, "x_total", "X.", "a=\"1\"");
  EXPECT_GT(a, 0u);
  EXPECT_EQ(m.add(Metrics::Kind::Counter, "x_total", "X.", "a=\"1\""), a);
  EXPECT_NE(m.add(Metrics::Kind::Counter, "x_total", "X.", "a=\"2\""), a);
  EXPECT_EQ(m.add(Metrics::Kind::Gauge, "x_total", "X."), 0u);
  EXPECT_EQ(m.add(Metrics::Kind::Gauge, "9bad", "X."), 0u);
  EXPECT_EQ(m.add(Metrics::Kind::Gauge, "bad-name", "X."), 0u);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Metrics m;
  uint64_t c = m.add(Metrics::Kind::Counter, "n_total", "N.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; i++) m.add_value(c, 1);
    });
  for (auto& t : threads) t.join();
  EXPECT_NE(m.render().find("n_total 40000\n"), std::string::npos);
}

}  // namespace
}  // namespace parley::kernel::host
