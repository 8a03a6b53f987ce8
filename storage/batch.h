// A namespace handle and an atomic batch of puts and deletes, as the storage
// library takes them. Plain data: building a batch touches no database.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class ColumnFamilyHandle;
}

namespace parley::storage {

// One namespace (column family) of an open Db; copyable, valid until the Db
// closes. A default-constructed Ns is invalid.
class Ns {
 public:
  Ns() = default;
  bool valid() const { return cf_ != nullptr; }
  rocksdb::ColumnFamilyHandle* cf() const { return cf_; }
  bool operator==(const Ns& o) const { return cf_ == o.cf_; }

 private:
  friend class Db;
  explicit Ns(rocksdb::ColumnFamilyHandle* cf) : cf_(cf) {}
  rocksdb::ColumnFamilyHandle* cf_ = nullptr;
};

// Puts and deletes over any namespaces of one Db, applied all or nothing.
// Later operations on the same key win.
class Batch {
 public:
  struct Op {
    rocksdb::ColumnFamilyHandle* cf;
    bool is_delete;
    std::string key;
    std::string value;
  };

  void put(Ns ns, std::string_view key, std::string_view value) {
    ops_.push_back({ns.cf(), false, std::string(key), std::string(value)});
    bytes_ += key.size() + value.size();
  }
  void del(Ns ns, std::string_view key) {
    ops_.push_back({ns.cf(), true, std::string(key), {}});
    bytes_ += key.size();
  }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  size_t bytes() const { return bytes_; }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

}  // namespace parley::storage
