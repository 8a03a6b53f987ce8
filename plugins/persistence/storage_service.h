// The `storage` service v1 (services/storage.h) over parley::storage::Db.
//
// Threads: every vtable call arrives on the loop thread. Reads (get, scan)
// run on the SDK worker pool via queue_work and answer in its after-callback.
// Writes go straight to the Db's group-commit writer thread; that thread puts
// each completion in a mailbox and wakes the loop with post_to_loop, where
// the callbacks run (one post carries every completion of a group).
//
// Namespace handles are indexes into a table kept on the loop thread
// (handle = index + 1); a work item carries the resolved storage::Ns, so the
// worker threads never touch the table.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <parley/plugin.hpp>
#include <parley/services/storage.h>

#include "storage/db.h"

namespace parley::persistence {

// storage::Status -> the service's PARLEY_E* codes (storage.h).
int to_parley_error(const storage::Status& st);

class StorageService {
 public:
  // owner: the persistence plugin (for queue_work and its log); db: open.
  StorageService(parley::Plugin& owner, std::unique_ptr<storage::Db> db);
  ~StorageService();
  StorageService(const StorageService&) = delete;
  StorageService& operator=(const StorageService&) = delete;

  // The vtable to export; its functions reach the one live StorageService.
  static const parley_storage_v1* vtable();

  // Loop thread, at the plugin's shutdown: refuses new calls (ECANCELED),
  // writes everything queued, closes the database, then runs every write
  // callback still waiting. Idempotent.
  void shutdown();

  storage::Db* db() { return db_.get(); }

  // The vtable's functions (loop thread).
  parley_storage_ns open_namespace(parley_plugin* self, const char* suffix);
  int get(parley_storage_ns ns, const uint8_t* key, size_t key_len, parley_storage_get_cb cb,
          void* ud);
  parley_storage_batch* batch_new();
  int batch_put(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* key,
                size_t key_len, const uint8_t* value, size_t value_len);
  int batch_delete(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* key,
                   size_t key_len);
  int batch_commit(parley_storage_batch* b, parley_storage_write_cb cb, void* ud);
  void batch_discard(parley_storage_batch* b);
  int scan(parley_storage_ns ns, const uint8_t* start, size_t start_len, const uint8_t* end,
           size_t end_len, uint32_t flags, size_t limit, parley_storage_scan_cb cb, void* ud);
  int scan_prefix(parley_storage_ns ns, const uint8_t* prefix, size_t prefix_len,
                  uint32_t flags, size_t limit, parley_storage_scan_cb cb, void* ud);

 private:
  struct Completion {
    parley_storage_write_cb cb;
    void* ud;
    int status;
  };
  // Write completions on their way from the writer thread to the loop.
  // Shared with the posted drain so one that runs late finds it closed.
  struct Mailbox {
    std::mutex mu;
    std::vector<Completion> items;
    bool posted = false;  // a drain is already on its way to the loop
    bool closed = false;
    StorageService* service = nullptr;
  };

  const storage::Ns* lookup(parley_storage_ns ns) const;
  int run_scan(storage::Ns ns, storage::ScanRange range, parley_storage_scan_cb cb, void* ud);
  void on_written(parley_storage_write_cb cb, void* ud, const storage::Status& st);
  static void drain_posted(void* data);
  void deliver(std::vector<Completion>& items);

  parley::Plugin& owner_;
  std::unique_ptr<storage::Db> db_;
  std::vector<storage::Ns> namespaces_;  // handle = index + 1
  std::unordered_map<std::string, parley_storage_ns> by_name_;
  std::shared_ptr<Mailbox> mailbox_;
  bool stopping_ = false;
  parley::Metric committed_, failed_, wal_syncs_;
};

}  // namespace parley::persistence
