#include "metrics.h"

#include <cstdio>
#include <cstdlib>

namespace parley::kernel::host {
namespace {

const char* type_name(Metrics::Kind kind) {
  switch (kind) {
    case Metrics::Kind::Counter: return "counter";
    case Metrics::Kind::Gauge: return "gauge";
    case Metrics::Kind::Histogram: return "histogram";
  }
  return "untyped";
}

// The shortest of %.15g / %.17g that reads back as the same double.
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// HELP text escapes backslash and newline.
std::string escape_help(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string with_labels(const std::string& name, const std::string& labels,
                        const std::string& extra = "") {
  std::string l = labels;
  if (!extra.empty()) l = l.empty() ? extra : l + "," + extra;
  return l.empty() ? name : name + "{" + l + "}";
}

void atomic_add(std::atomic<double>& a, double delta) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + delta, std::memory_order_relaxed)) {
  }
}

}  // namespace

bool Metrics::valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

uint64_t Metrics::add(Kind kind, const std::string& name, const std::string& help,
                      const std::string& labels) {
  if (!valid_name(name)) return 0;
  std::lock_guard lock(mu_);
  auto key = std::make_pair(name, labels);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return by_id_.at(it->second)->kind == kind ? it->second : 0;
  auto fam = families_.find(name);
  if (fam == families_.end()) {
    fam = families_.emplace(name, Family{kind, help, {}}).first;
  } else if (fam->second.kind != kind) {
    return 0;
  }
  auto series = std::make_unique<Series>();
  series->kind = kind;
  series->labels = labels;
  uint64_t id = next_id_++;
  fam->second.series.push_back(series.get());
  by_id_.emplace(id, std::move(series));
  by_key_.emplace(key, id);
  return id;
}

Metrics::Series* Metrics::find(uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

void Metrics::add_value(uint64_t id, double delta) {
  if (Series* s = find(id); s && s->kind != Kind::Histogram) atomic_add(s->value, delta);
}

void Metrics::set_value(uint64_t id, double value) {
  if (Series* s = find(id); s && s->kind == Kind::Gauge) s->value.store(value);
}

void Metrics::observe(uint64_t id, double value) {
  Series* s = find(id);
  if (!s || s->kind != Kind::Histogram) return;
  for (size_t i = 0; i < kBucketCount; i++)
    if (value <= kBuckets[i]) s->buckets[i].fetch_add(1, std::memory_order_relaxed);
  s->count.fetch_add(1, std::memory_order_relaxed);
  atomic_add(s->sum, value);
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + escape_help(fam.help) + "\n";
    out += "# TYPE " + name + " " + type_name(fam.kind) + "\n";
    for (const Series* s : fam.series) {
      if (fam.kind != Kind::Histogram) {
        out += with_labels(name, s->labels) + " " + number(s->value.load()) + "\n";
        continue;
      }
      // Buckets are counted non-cumulatively per bound at observe time
      // (value <= bound increments every bound above it), so each is
      // already cumulative.
      for (size_t i = 0; i < kBucketCount; i++)
        out += with_labels(name + "_bucket", s->labels, "le=\"" + number(kBuckets[i]) + "\"") +
               " " + std::to_string(s->buckets[i].load()) + "\n";
      out += with_labels(name + "_bucket", s->labels, "le=\"+Inf\"") + " " +
             std::to_string(s->count.load()) + "\n";
      out += with_labels(name + "_sum", s->labels) + " " + number(s->sum.load()) + "\n";
      out += with_labels(name + "_count", s->labels) + " " + std::to_string(s->count.load()) +
             "\n";
    }
  }
  return out;
}

}  // namespace parley::kernel::host
