// The metrics registry behind the SDK's metric_* functions and the kernel's
// own counters, rendered in the Prometheus text exposition format.
// Registration happens on the loop thread; add/set/observe/render are
// thread-safe (a mutex guards the id lookup, values are atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::kernel::host {

class Metrics {
 public:
  enum class Kind { Counter, Gauge, Histogram };

  // One series of a family (name + labels). Returns its id (> 0), or 0 when
  // `name` is not a valid metric name or the series already exists with
  // another kind. Registering an existing series returns its id.
  // `labels` is the text inside {} (`plugin="echo",method="echo.say"`), or "".
  uint64_t add(Kind kind, const std::string& name, const std::string& help,
               const std::string& labels = "");

  void add_value(uint64_t id, double delta);
  void set_value(uint64_t id, double value);
  void observe(uint64_t id, double value);

  std::string render() const;

  static bool valid_name(const std::string& name);

  // Histogram buckets (upper bounds, seconds).
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,     2.5,
                                        5,      10};
  static constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

 private:
  struct Series {
    Kind kind;
    std::string labels;
    std::atomic<double> value{0};
    std::atomic<uint64_t> buckets[kBucketCount] = {};
    std::atomic<uint64_t> count{0};
    std::atomic<double> sum{0};
  };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<Series*> series;
  };
  Series* find(uint64_t id) const;

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // sorted for stable output
  std::unordered_map<uint64_t, std::unique_ptr<Series>> by_id_;
  std::map<std::pair<std::string, std::string>, uint64_t> by_key_;
  uint64_t next_id_ = 1;
};

}  // namespace parley::kernel::host
