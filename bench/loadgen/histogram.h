// Log-linear latency histogram: 64 linear sub-buckets per power of two, so
// any recorded value is reported within 1/64 (1.6 %) of itself, from 1 ns to
// hours, in a fixed 32 KiB of counters. Recording is a few instructions (no
// allocation), which matters at millions of deliveries per second.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace parley::loadgen {

class Histogram {
 public:
  void record(uint64_t v) {
    ++counts_[index_of(v)];
    ++total_;
    max_ = std::max(max_, v);
  }
  void merge(const Histogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }
  void clear() { *this = Histogram(); }
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }

  // The value at quantile q (0..1): the midpoint of the bucket holding it
  // (never above the recorded maximum).
  uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(max_, midpoint_of(i));
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets
  static constexpr size_t kBuckets = 64 * 64;

  static size_t index_of(uint64_t v) {
    if (v < (2u << kSubBits)) return static_cast<size_t>(v);  // exact below 128
    int e = 63 - std::countl_zero(v);                         // 7..63
    uint64_t sub = v >> (e - kSubBits);                       // 64..127
    return static_cast<size_t>(e - kSubBits + 1) * 64 + static_cast<size_t>(sub - 64);
  }
  static uint64_t midpoint_of(size_t i) {
    if (i < (2u << kSubBits)) return i;
    int e = static_cast<int>(i / 64) + kSubBits - 1;
    uint64_t lo = (i % 64 + 64) << (e - kSubBits);
    return lo + ((uint64_t{1} << (e - kSubBits)) >> 1);
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace parley::loadgen
