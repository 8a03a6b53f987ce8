// The persistence plugin: SDK glue. Reads its config, opens the database
// (refusing the start, with RocksDB's lock message, when another process
// holds it), exports the `storage` service v1, writes a checkpoint on
// SIGUSR1, and closes the database last at shutdown.
//
// Build: parley_plugin(persistence ...) in this folder's CMakeLists.txt.
// Configure: see README.md / docs/storage.md.
#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <parley/plugin.hpp>
#include <parley/services/storage.h>
#include <stdexcept>
#include <string>

#include "checkpoint_signal.h"
#include "storage/db.h"
#include "storage_service.h"

namespace parley::persistence {

namespace {

// A relative path resolves against the kernel's data_dir.
std::string resolve(const std::string& data_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(data_dir) / p).lexically_normal().string();
}

// "20261125T161503Z": sorts by time, safe in a file name.
std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

class Persistence final : public parley::Plugin {
 public:
  static constexpr const char* kName = "persistence";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kProvides[] = {PARLEY_STORAGE_SERVICE, nullptr};

  void init(const parley::Config& cfg) override {
    cfg.declare_keys({"path", "durability", "block_cache_mb", "write_buffer_mb", "checkpoint_dir"});
    const std::string data = data_dir();
    storage::Options o;
    o.path = resolve(data, cfg.str("path", "db"));
    std::string durability = cfg.str("durability", "sync");
    if (durability == "sync") {
      o.durability = storage::Durability::kSync;
    } else if (durability == "async") {
      o.durability = storage::Durability::kAsync;
    } else {
      throw std::runtime_error("config durability: expected sync or async, got '" + durability +
                               "'");
    }
    o.block_cache_mb = static_cast<size_t>(cfg.integer("block_cache_mb", 32, 1, 1 << 20));
    o.write_buffer_mb = static_cast<size_t>(cfg.integer("write_buffer_mb", 16, 1, 1 << 16));
    checkpoint_dir_ = resolve(data, cfg.str("checkpoint_dir", "backups"));
    parley_plugin* self = this->self();
    o.log = [self](storage::LogLevel level, const std::string& line) {
      int l = level == storage::LogLevel::kError  ? PARLEY_LOG_ERROR
              : level == storage::LogLevel::kWarn ? PARLEY_LOG_WARN
                                                  : PARLEY_LOG_INFO;
      parley::api().log(self, l, "%s", line.c_str());
    };

    std::unique_ptr<storage::Db> db;
    storage::Status st = storage::Db::open(o, &db);
    if (st.code() == storage::Code::kBusy) {
      throw std::runtime_error("database " + o.path +
                               " is locked by another process (is another parleyd running on "
                               "this data directory?): " + st.message());
    }
    if (!st.is_ok())
      throw std::runtime_error("cannot open database " + o.path + ": " + st.to_string());
    service_ = std::make_unique<StorageService>(*this, std::move(db));
    export_service(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION, StorageService::vtable());

    int rc = signal_.start(parley::api().loop(), SIGUSR1, [this] { take_checkpoint(); });
    if (rc != 0) warn("cannot watch SIGUSR1 for checkpoints (libuv error %d)", rc);
    info("database open path=%s durability=%s block_cache_mb=%zu write_buffer_mb=%zu",
         o.path.c_str(), durability.c_str(), o.block_cache_mb, o.write_buffer_mb);
  }

  ~Persistence() override {
    signal_.stop();
    // Dependent plugins have shut down already (reverse dependency order):
    // finish and answer every queued write, then close.
    if (service_) service_->shutdown();
    service_.reset();
  }

 private:
  // SIGUSR1: a consistent copy of the database in <checkpoint_dir>/<UTC>,
  // written on the worker pool; the result is logged.
  void take_checkpoint() {
    if (checkpoint_running_) {
      warn("SIGUSR1: a checkpoint is already being written; ignored");
      return;
    }
    std::string dir = checkpoint_dir_ + "/" + utc_stamp();
    for (int i = 1; std::filesystem::exists(dir); ++i)
      dir = checkpoint_dir_ + "/" + utc_stamp() + "-" + std::to_string(i);
    info("SIGUSR1: writing checkpoint to %s", dir.c_str());
    checkpoint_running_ = true;
    storage::Db* db = service_->db();
    auto result = std::make_shared<storage::Status>();
    try {
      queue_work([db, dir, result] { *result = db->checkpoint(dir); },
                 [this, result](int status) {
                   checkpoint_running_ = false;
                   if (status != 0) warn("checkpoint not written: %s", parley_strerror(status));
                   // Success and failure are logged by the storage library.
                 });
    } catch (const std::exception& e) {
      checkpoint_running_ = false;
      error("checkpoint not started: %s", e.what());
    }
  }

  std::unique_ptr<StorageService> service_;
  CheckpointSignal signal_;
  std::string checkpoint_dir_;
  bool checkpoint_running_ = false;
};

}  // namespace parley::persistence

PARLEY_PLUGIN(parley::persistence::Persistence)
