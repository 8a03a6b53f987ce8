// Ordered scans over one namespace, forward or reverse, bounded by RocksDB's
// iterate_lower_bound/iterate_upper_bound so the iterator never walks past
// the range (cheap even when the namespace is large).
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <memory>

#include "storage/db.h"

namespace parley::storage {

namespace {

// The smallest key greater than every key with this prefix; empty: none.
std::string successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

}  // namespace

Status Db::scan(Ns ns, const ScanRange& range, ScanResult* out) const {
  out->items.clear();
  out->more = false;
  if (!ns.valid()) return {Code::kInvalidArgument, "invalid namespace"};
  if (!range.end.empty() && range.start >= range.end) return {};  // empty range
  std::shared_lock<std::shared_mutex> lock(lifecycle_);
  if (closed_) return {Code::kClosed, "database closed"};

  rocksdb::Slice lower(range.start);
  rocksdb::Slice upper(range.end);
  rocksdb::ReadOptions ro;
  if (!range.start.empty()) ro.iterate_lower_bound = &lower;
  if (!range.end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, ns.cf()));

  if (!range.reverse) {
    if (range.start.empty())
      it->SeekToFirst();
    else
      it->Seek(lower);
  } else if (range.end.empty()) {
    it->SeekToLast();
  } else {
    // The greatest key < end: SeekForPrev lands on <= end.
    it->SeekForPrev(upper);
    if (it->Valid() && it->key() == upper) it->Prev();
  }
  for (; it->Valid(); range.reverse ? it->Prev() : it->Next()) {
    if (range.limit != 0 && out->items.size() == range.limit) {
      out->more = true;
      break;
    }
    out->items.push_back({it->key().ToString(), it->value().ToString()});
  }
  Status st = Status::from_rocksdb(it->status());
  if (!st.is_ok()) {
    out->items.clear();
    out->more = false;
    log(LogLevel::kError, "storage scan FAILED: " + st.to_string());
  }
  return st;
}

Status Db::scan_prefix(Ns ns, std::string_view prefix, bool reverse, size_t limit,
                       ScanResult* out) const {
  ScanRange range;
  range.start = std::string(prefix);
  range.end = successor(prefix);
  range.reverse = reverse;
  range.limit = limit;
  return scan(ns, range, out);
}

}  // namespace parley::storage
