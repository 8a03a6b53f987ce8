// Test plugin `kv`: exposes the storage service over the protocol so the
// persistence tests can drive it through a real parleyd.
//
// Payloads use the key encoding of parley/util/keys.hpp (str = u32 length +
// bytes):
//   kv.put  str(key) str(value) [str(key) str(value) ...]  -> empty; one
//           atomic batch for all pairs
//   kv.del  str(key)                                       -> empty
//   kv.get  str(key)                                       -> the raw value,
//           or NotFound
//   kv.scan u8(reverse) u32(limit) str(prefix)             -> u8(more) then
//           str(key) str(value) per item
//   kv.stat                                                -> "ns=<handle>"
// Storage errors answer with storage_error_status() (Unavailable, ...).
#include <parley/plugin.hpp>
#include <parley/services/storage.hpp>
#include <parley/util/keys.hpp>

using parley::keys::KeyBuilder;
using parley::keys::KeyReader;

namespace {

std::string_view as_view(parley::span<const uint8_t> p) {
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}

class Kv final : public parley::Plugin {
 public:
  static constexpr const char* kName = "kv";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kRequires[] = {PARLEY_STORAGE_SERVICE, nullptr};

  // Public (callable before authentication): a test plugin with no auth.
  static constexpr uint32_t kPublic = PARLEY_METHOD_PUBLIC;

  void init(const parley::Config& cfg) override {
    cfg.declare_keys({"suffix"});
    suffix_ = cfg.str("suffix", "");
    method("kv.put", [this](parley::Request& req, parley::span<const uint8_t> p) { put(req, p); },
           kPublic);
    method("kv.del", [this](parley::Request& req, parley::span<const uint8_t> p) { del(req, p); },
           kPublic);
    method("kv.get", [this](parley::Request& req, parley::span<const uint8_t> p) { get(req, p); },
           kPublic);
    method("kv.scan", [this](parley::Request& req, parley::span<const uint8_t> p) { scan(req, p); },
           kPublic);
    method("kv.stat", [this](parley::Request& req, parley::span<const uint8_t>) {
      std::string s = "ns=" + std::to_string(ns_);
      req.reply(parley::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }, kPublic);
  }

  void on_all_loaded() override {
    storage_ = parley::Storage::from_service(
        service<void>(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION));
    ns_ = storage_.open_namespace(self(), suffix_.empty() ? nullptr : suffix_.c_str());
  }

 private:
  static void answer(parley::Deferred d, int status) {
    if (status == 0)
      d.reply();
    else
      d.error(parley::storage_error_status(status), parley_strerror(status));
  }

  void put(parley::Request& req, parley::span<const uint8_t> p) {
    KeyReader r(as_view(p));
    auto batch = storage_.batch();
    try {
      while (!r.at_end()) {
        std::string_view k = r.str();
        std::string_view v = r.str();
        batch.put(ns_, k, v);
      }
    } catch (const std::exception& e) {
      req.error(PARLEY_STATUS_INVALID_ARGUMENT, e.what());
      return;
    }
    auto d = req.defer();
    storage_.commit(std::move(batch), [d](int status) { answer(d, status); });
  }

  void del(parley::Request& req, parley::span<const uint8_t> p) {
    std::string key;
    try {
      key = std::string(KeyReader(as_view(p)).str());
    } catch (const std::exception& e) {
      req.error(PARLEY_STATUS_INVALID_ARGUMENT, e.what());
      return;
    }
    auto d = req.defer();
    storage_.del(ns_, key, [d](int status) { answer(d, status); });
  }

  void get(parley::Request& req, parley::span<const uint8_t> p) {
    std::string key;
    try {
      key = std::string(KeyReader(as_view(p)).str());
    } catch (const std::exception& e) {
      req.error(PARLEY_STATUS_INVALID_ARGUMENT, e.what());
      return;
    }
    auto d = req.defer();
    storage_.get(ns_, key, [d](int status, std::string_view value) mutable {
      if (status != 0) {
        d.error(parley::storage_error_status(status), parley_strerror(status));
        return;
      }
      d.reply(parley::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()),
                                          value.size()));
    });
  }

  void scan(parley::Request& req, parley::span<const uint8_t> p) {
    bool reverse = false;
    uint32_t limit = 0;
    std::string prefix;
    try {
      KeyReader r(as_view(p));
      reverse = r.u8() != 0;
      limit = r.u32();
      prefix = std::string(r.str());
    } catch (const std::exception& e) {
      req.error(PARLEY_STATUS_INVALID_ARGUMENT, e.what());
      return;
    }
    auto d = req.defer();
    storage_.scan_prefix(ns_, prefix, reverse, limit,
                         [d](int status, const std::vector<parley::Storage::Item>& items,
                             bool more) mutable {
                           if (status != 0) {
                             d.error(parley::storage_error_status(status), parley_strerror(status));
                             return;
                           }
                           KeyBuilder out;
                           out.u8(more ? 1 : 0);
                           for (const auto& it : items) out.str(it.key).str(it.value);
                           std::string bytes = out.done();
                           d.reply(parley::span<const uint8_t>(
                               reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
                         });
  }

  std::string suffix_;
  parley::Storage storage_;
  parley::Storage::Ns ns_ = 0;
};

}  // namespace

PARLEY_PLUGIN(Kv)
