// C++ wrapper over the `storage` service v1 (storage.h). Header-only, C++17,
// compiled into the plugin that uses it.
//
//   // in on_all_loaded:
//   storage_ = parley::Storage::from_service(
//       api.get_service(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION));
//   ns_ = storage_.open_namespace(self);            // "<plugin name>"
//   // in a handler:
//   auto b = storage_.batch();
//   b.put(ns_, key, value);
//   storage_.commit(std::move(b), [req](int status) { ... });
//   storage_.get(ns_, key, [](int status, std::string_view value) { ... });
//
// Threads and lifetimes: call everything on the loop thread. Each callback
// (a std::function, moved to the heap and passed as the C callback's ud)
// runs exactly once, on the loop thread, with status 0 or a negative
// PARLEY_E* code (ENOENT for a missing key; EUNAVAIL for an I/O error, a full
// disk or corruption — nothing was written; ECANCELED at shutdown). When the
// service refuses a call outright (bad arguments), the callback runs at once,
// before the call returns, with that error. Keys and values passed in are
// copied by the service; views passed to callbacks are borrowed for the
// callback only. Exceptions thrown by a callback are caught at the C
// boundary and reported on stderr (they must not unwind into the host).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage.h"

namespace parley {

// Borrowed bytes: anything with data()/size() over 1-byte elements
// (std::string, std::string_view, std::vector<uint8_t>, std::span<const
// uint8_t>, flatbuffers::DetachedBuffer, ...), a C string, or pointer+size.
class Bytes {
 public:
  Bytes() = default;
  Bytes(const void* data, size_t size)
      : data_(static_cast<const uint8_t*>(data)), size_(size) {}
  Bytes(const char* cstr) : data_(reinterpret_cast<const uint8_t*>(cstr)),
                            size_(cstr ? std::strlen(cstr) : 0) {}
  template <class C,
            class E = std::remove_pointer_t<decltype(std::declval<const C&>().data())>,
            class = decltype(std::declval<const C&>().size()),
            std::enable_if_t<sizeof(E) == 1 && !std::is_pointer_v<C>, int> = 0>
  Bytes(const C& c)
      : data_(reinterpret_cast<const uint8_t*>(c.data())), size_(c.size()) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Maps a storage error to the protocol status a handler should answer with.
inline uint16_t storage_error_status(int err) {
  switch (err) {
    case PARLEY_OK: return PARLEY_STATUS_OK;
    case PARLEY_ENOENT: return PARLEY_STATUS_NOT_FOUND;
    case PARLEY_EINVAL: return PARLEY_STATUS_INVALID_ARGUMENT;
    case PARLEY_ETOOBIG: return PARLEY_STATUS_INVALID_ARGUMENT;
    case PARLEY_ECANCELED:
    case PARLEY_EUNAVAIL:
    case PARLEY_EIO:
    case PARLEY_ENOSPC:
    case PARLEY_ECORRUPT:
    case PARLEY_EBUSY: return PARLEY_STATUS_UNAVAILABLE;
    default: return PARLEY_STATUS_INTERNAL;
  }
}

class Storage {
 public:
  using Ns = parley_storage_ns;
  // One scan result; both views are borrowed for the callback.
  struct Item {
    std::string_view key;
    std::string_view value;
  };
  using WriteCallback = std::function<void(int status)>;
  using GetCallback = std::function<void(int status, std::string_view value)>;
  // A lambda may take the items as `const std::vector<Item>&`,
  // `std::span<const Item>` or `const auto&`. more: the limit cut the scan.
  using ScanCallback =
      std::function<void(int status, const std::vector<Item>& items, bool more)>;

  Storage() = default;
  explicit Storage(const parley_storage_v1* vt) : vt_(vt) {}
  // From get_service(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION). Throws
  // std::runtime_error when absent or too old to have the v1 functions.
  static Storage from_service(const void* service) {
    auto vt = static_cast<const parley_storage_v1*>(service);
    if (!vt) throw std::runtime_error("storage service v1 not available");
    if (vt->struct_size < offsetof(parley_storage_v1, reserved))
      throw std::runtime_error("storage service vtable too small");
    return Storage(vt);
  }

  explicit operator bool() const { return vt_ != nullptr; }
  const parley_storage_v1* vtable() const { return vt_; }

  // Opens "<plugin name>" or "<plugin name>.<suffix>". Synchronous. Throws
  // std::runtime_error when the service refuses (its reason is in the
  // plugin's error, see set_error).
  Ns open_namespace(parley_plugin* self, const char* suffix = nullptr) const {
    Ns ns = check()->open_namespace(self, suffix);
    if (ns == 0)
      throw std::runtime_error(std::string("storage: cannot open namespace") +
                               (suffix ? std::string(" suffix ") + suffix : ""));
    return ns;
  }

  // An atomic set of puts and deletes, possibly over several namespaces of
  // the plugin. Move-only; discarded if destroyed uncommitted.
  class Batch {
   public:
    Batch() = default;
    Batch(Batch&& o) noexcept : vt_(o.vt_), b_(std::exchange(o.b_, nullptr)), ops_(o.ops_) {}
    Batch& operator=(Batch&& o) noexcept {
      if (this != &o) {
        reset();
        vt_ = o.vt_;
        b_ = std::exchange(o.b_, nullptr);
        ops_ = o.ops_;
      }
      return *this;
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { reset(); }

    // Throw std::runtime_error if the service refuses (e.g. EINVAL).
    Batch& put(Ns ns, Bytes key, Bytes value) {
      int rc = vt_->batch_put(live(), ns, key.data(), key.size(), value.data(),
                              value.size());
      if (rc != 0) fail("batch_put", rc);
      ++ops_;
      return *this;
    }
    Batch& del(Ns ns, Bytes key) {
      int rc = vt_->batch_delete(live(), ns, key.data(), key.size());
      if (rc != 0) fail("batch_delete", rc);
      ++ops_;
      return *this;
    }
    bool empty() const { return ops_ == 0; }
    size_t size() const { return ops_; }

   private:
    friend class Storage;
    explicit Batch(const parley_storage_v1* vt) : vt_(vt), b_(vt->batch_new()) {
      if (!b_) throw std::runtime_error("storage: batch_new failed");
    }
    parley_storage_batch* live() const {
      if (!b_) throw std::logic_error("storage: batch already committed");
      return b_;
    }
    void reset() {
      if (b_) vt_->batch_discard(b_);
      b_ = nullptr;
    }
    [[noreturn]] static void fail(const char* what, int rc) {
      throw std::runtime_error(std::string("storage: ") + what + ": " +
                               parley_strerror(rc));
    }

    const parley_storage_v1* vt_ = nullptr;
    parley_storage_batch* b_ = nullptr;
    size_t ops_ = 0;
  };

  Batch batch() const { return Batch(check()); }

  // Commits (consumes) the batch; done(status) when durable or failed.
  void commit(Batch&& b, WriteCallback done) const {
    parley_storage_batch* raw = b.live();
    b.b_ = nullptr;  // consumed by batch_commit, also on error
    auto* fn = new WriteCallback(std::move(done));
    int rc = check()->batch_commit(raw, &Storage::on_write, fn);
    if (rc != 0) on_write(fn, rc);
  }

  // One-operation conveniences.
  void put(Ns ns, Bytes key, Bytes value, WriteCallback done) const {
    auto b = batch();
    b.put(ns, key, value);
    commit(std::move(b), std::move(done));
  }
  void del(Ns ns, Bytes key, WriteCallback done) const {
    auto b = batch();
    b.del(ns, key);
    commit(std::move(b), std::move(done));
  }

  // done(0, value) or done(PARLEY_ENOENT, {}) or done(error, {}).
  void get(Ns ns, Bytes key, GetCallback done) const {
    auto* fn = new GetCallback(std::move(done));
    int rc = check()->get(ns, key.data(), key.size(), &Storage::on_get, fn);
    if (rc != 0) on_get(fn, rc, nullptr, 0);
  }

  // Keys in [start, end) (empty end: to the end of the namespace), forward,
  // or backward from the greatest key < end; at most limit items (0: all).
  void scan(Ns ns, Bytes start, Bytes end, bool reverse, size_t limit,
            ScanCallback done) const {
    auto* fn = new ScanCallback(std::move(done));
    int rc = check()->scan(ns, start.data(), start.size(), end.data(), end.size(),
                           reverse ? PARLEY_SCAN_REVERSE : 0u, limit,
                           &Storage::on_scan, fn);
    if (rc != 0) on_scan(fn, rc, nullptr, 0, 0);
  }

  // Every key starting with prefix (empty: the whole namespace).
  void scan_prefix(Ns ns, Bytes prefix, bool reverse, size_t limit,
                   ScanCallback done) const {
    auto* fn = new ScanCallback(std::move(done));
    int rc = check()->scan_prefix(ns, prefix.data(), prefix.size(),
                                  reverse ? PARLEY_SCAN_REVERSE : 0u, limit,
                                  &Storage::on_scan, fn);
    if (rc != 0) on_scan(fn, rc, nullptr, 0, 0);
  }

 private:
  const parley_storage_v1* check() const {
    if (!vt_) throw std::logic_error("storage: no service (empty parley::Storage)");
    return vt_;
  }

  static void report(const char* where, const char* what) {
    std::fprintf(stderr, "parley::Storage: exception in %s callback: %s\n",
                 where, what);
  }

  // Trampolines: take ownership of the heap std::function, call it once,
  // and never let an exception cross back into C.
  static void on_write(void* ud, int status) {
    std::unique_ptr<WriteCallback> fn(static_cast<WriteCallback*>(ud));
    try {
      if (*fn) (*fn)(status);
    } catch (const std::exception& e) {
      report("write", e.what());
    } catch (...) {
      report("write", "unknown");
    }
  }
  static void on_get(void* ud, int status, const uint8_t* value, size_t len) {
    std::unique_ptr<GetCallback> fn(static_cast<GetCallback*>(ud));
    try {
      if (*fn)
        (*fn)(status, std::string_view(reinterpret_cast<const char*>(value),
                                       value ? len : 0));
    } catch (const std::exception& e) {
      report("get", e.what());
    } catch (...) {
      report("get", "unknown");
    }
  }
  static void on_scan(void* ud, int status, const parley_storage_kv* items,
                      size_t n, int more) {
    std::unique_ptr<ScanCallback> fn(static_cast<ScanCallback*>(ud));
    try {
      std::vector<Item> out;
      out.reserve(n);
      for (size_t i = 0; i < n; ++i)
        out.push_back({{reinterpret_cast<const char*>(items[i].key), items[i].key_len},
                       {reinterpret_cast<const char*>(items[i].value),
                        items[i].value_len}});
      if (*fn) (*fn)(status, out, more != 0);
    } catch (const std::exception& e) {
      report("scan", e.what());
    } catch (...) {
      report("scan", "unknown");
    }
  }

  const parley_storage_v1* vt_ = nullptr;
};

}  // namespace parley
