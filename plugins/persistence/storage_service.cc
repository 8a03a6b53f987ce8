#include "storage_service.h"

#include <cstring>

namespace parley::persistence {

namespace {

// The vtable's C functions carry no context pointer, so they reach the
// service through this one pointer, set while a StorageService lives. It is
// local to this plugin's .so (hidden visibility).
StorageService* g_service = nullptr;

struct BatchImpl {
  storage::Batch batch;
};

BatchImpl* impl_of(parley_storage_batch* b) { return reinterpret_cast<BatchImpl*>(b); }

std::string_view bytes(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// A namespace suffix: [a-z0-9_.-]{1,64}.
bool valid_suffix(const char* s) {
  size_t n = std::strlen(s);
  if (n == 0 || n > 64) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

// --- the C trampolines --------------------------------------------------
parley_storage_ns c_open_namespace(parley_plugin* self, const char* suffix) {
  if (!g_service) {
    parley::api().set_error(self, "storage: the persistence plugin has shut down");
    return 0;
  }
  return g_service->open_namespace(self, suffix);
}
int c_get(parley_storage_ns ns, const uint8_t* key, size_t key_len, parley_storage_get_cb cb,
          void* ud) {
  return g_service ? g_service->get(ns, key, key_len, cb, ud) : PARLEY_ECANCELED;
}
parley_storage_batch* c_batch_new() { return g_service ? g_service->batch_new() : nullptr; }
int c_batch_put(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* key,
                size_t key_len, const uint8_t* value, size_t value_len) {
  return g_service ? g_service->batch_put(b, ns, key, key_len, value, value_len)
                   : PARLEY_ECANCELED;
}
int c_batch_delete(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* key,
                   size_t key_len) {
  return g_service ? g_service->batch_delete(b, ns, key, key_len) : PARLEY_ECANCELED;
}
int c_batch_commit(parley_storage_batch* b, parley_storage_write_cb cb, void* ud) {
  if (!g_service) {
    delete impl_of(b);  // consumed also on error
    return PARLEY_ECANCELED;
  }
  return g_service->batch_commit(b, cb, ud);
}
void c_batch_discard(parley_storage_batch* b) { delete impl_of(b); }
int c_scan(parley_storage_ns ns, const uint8_t* start, size_t start_len, const uint8_t* end,
           size_t end_len, uint32_t flags, size_t limit, parley_storage_scan_cb cb, void* ud) {
  return g_service
             ? g_service->scan(ns, start, start_len, end, end_len, flags, limit, cb, ud)
             : PARLEY_ECANCELED;
}
int c_scan_prefix(parley_storage_ns ns, const uint8_t* prefix, size_t prefix_len,
                  uint32_t flags, size_t limit, parley_storage_scan_cb cb, void* ud) {
  return g_service ? g_service->scan_prefix(ns, prefix, prefix_len, flags, limit, cb, ud)
                   : PARLEY_ECANCELED;
}

const parley_storage_v1 kVtable = {
    sizeof(parley_storage_v1),
    c_open_namespace,
    c_get,
    c_batch_new,
    c_batch_put,
    c_batch_delete,
    c_batch_commit,
    c_batch_discard,
    c_scan,
    c_scan_prefix,
    {},
};

}  // namespace

int to_parley_error(const storage::Status& st) {
  switch (st.code()) {
    case storage::Code::kOk: return PARLEY_OK;
    case storage::Code::kNotFound: return PARLEY_ENOENT;
    case storage::Code::kInvalidArgument: return PARLEY_EINVAL;
    case storage::Code::kClosed: return PARLEY_ECANCELED;
    // I/O errors, a full disk, corruption, a held lock: nothing was written.
    default: return PARLEY_EUNAVAIL;
  }
}

StorageService::StorageService(parley::Plugin& owner, std::unique_ptr<storage::Db> db)
    : owner_(owner), db_(std::move(db)), mailbox_(std::make_shared<Mailbox>()) {
  mailbox_->service = this;
  committed_ = owner_.counter("writes_total", "Storage batches acknowledged as written");
  failed_ = owner_.counter("write_errors_total",
                           "Storage batches that failed (nothing of them was written)");
  wal_syncs_ = owner_.gauge("wal_syncs", "WAL fsyncs since start (group commit: << writes)");
  g_service = this;
}

StorageService::~StorageService() {
  shutdown();
  if (g_service == this) g_service = nullptr;
}

const parley_storage_v1* StorageService::vtable() { return &kVtable; }

void StorageService::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  // Writes queued so far are written and answered into the mailbox.
  storage::Status st = db_->close();
  if (!st.is_ok()) owner_.error("closing the database: %s", st.to_string().c_str());
  std::vector<Completion> items;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->closed = true;
    items.swap(mailbox_->items);
  }
  deliver(items);
  owner_.info("database closed");
}

const storage::Ns* StorageService::lookup(parley_storage_ns ns) const {
  if (ns == 0 || ns > namespaces_.size()) return nullptr;
  return &namespaces_[ns - 1];
}

parley_storage_ns StorageService::open_namespace(parley_plugin* self, const char* suffix) {
  const char* plugin = parley::api().plugin_name(self);
  if (stopping_ || !plugin || !*plugin) {
    parley::api().set_error(self, "storage: open_namespace refused (shutting down or unnamed)");
    return 0;
  }
  std::string name = plugin;
  if (suffix) {
    if (!valid_suffix(suffix)) {
      std::string m = std::string("storage: bad namespace suffix '") + suffix +
                      "' (allowed: [a-z0-9_.-]{1,64})";
      parley::api().set_error(self, m.c_str());
      return 0;
    }
    name += ".";
    name += suffix;
  }
  auto it = by_name_.find(name);
  if (it != by_name_.end()) return it->second;
  storage::Ns ns;
  storage::Status st = db_->open_namespace(name, &ns);
  if (!st.is_ok()) {
    std::string m = "storage: cannot open namespace " + name + ": " + st.to_string();
    parley::api().set_error(self, m.c_str());
    return 0;
  }
  namespaces_.push_back(ns);
  parley_storage_ns handle = namespaces_.size();
  by_name_[name] = handle;
  owner_.info("namespace %s opened", name.c_str());
  return handle;
}

int StorageService::get(parley_storage_ns ns, const uint8_t* key, size_t key_len,
                        parley_storage_get_cb cb, void* ud) {
  if (stopping_) return PARLEY_ECANCELED;
  const storage::Ns* n = lookup(ns);
  if (!n || !cb || !key || key_len == 0) return PARLEY_EINVAL;
  struct Job {
    storage::Ns ns;
    std::string key;
    std::string value;
    storage::Status status;
  };
  auto job = std::make_shared<Job>();
  job->ns = *n;
  job->key.assign(bytes(key, key_len));
  storage::Db* db = db_.get();
  try {
    owner_.queue_work([job, db] { job->status = db->get(job->ns, job->key, &job->value); },
                      [job, cb, ud](int status) {
                        int rc = status != 0 ? (status == PARLEY_ECANCELED ? status : PARLEY_EUNAVAIL)
                                             : to_parley_error(job->status);
                        if (rc != 0)
                          cb(ud, rc, nullptr, 0);
                        else
                          cb(ud, 0, reinterpret_cast<const uint8_t*>(job->value.data()),
                             job->value.size());
                      });
  } catch (const parley::Error&) {
    return PARLEY_ECANCELED;
  }
  return 0;
}

parley_storage_batch* StorageService::batch_new() {
  if (stopping_) return nullptr;
  return reinterpret_cast<parley_storage_batch*>(new BatchImpl);
}

int StorageService::batch_put(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* key,
                              size_t key_len, const uint8_t* value, size_t value_len) {
  const storage::Ns* n = lookup(ns);
  if (!b || !n || !key || key_len == 0 || (!value && value_len != 0)) return PARLEY_EINVAL;
  impl_of(b)->batch.put(*n, bytes(key, key_len),
                        value ? bytes(value, value_len) : std::string_view());
  return 0;
}

int StorageService::batch_delete(parley_storage_batch* b, parley_storage_ns ns,
                                 const uint8_t* key, size_t key_len) {
  const storage::Ns* n = lookup(ns);
  if (!b || !n || !key || key_len == 0) return PARLEY_EINVAL;
  impl_of(b)->batch.del(*n, bytes(key, key_len));
  return 0;
}

int StorageService::batch_commit(parley_storage_batch* b, parley_storage_write_cb cb, void* ud) {
  std::unique_ptr<BatchImpl> impl(impl_of(b));
  if (!impl) return PARLEY_EINVAL;
  if (stopping_) return PARLEY_ECANCELED;
  db_->write(std::move(impl->batch),
             [this, cb, ud](const storage::Status& st) { on_written(cb, ud, st); });
  return 0;
}

void StorageService::batch_discard(parley_storage_batch* b) { delete impl_of(b); }

int StorageService::scan(parley_storage_ns ns, const uint8_t* start, size_t start_len,
                         const uint8_t* end, size_t end_len, uint32_t flags, size_t limit,
                         parley_storage_scan_cb cb, void* ud) {
  if (stopping_) return PARLEY_ECANCELED;
  const storage::Ns* n = lookup(ns);
  if (!n || !cb || (!start && start_len) || (!end && end_len)) return PARLEY_EINVAL;
  storage::ScanRange range;
  range.start.assign(bytes(start, start_len));
  range.end.assign(bytes(end, end_len));
  range.reverse = (flags & PARLEY_SCAN_REVERSE) != 0;
  range.limit = limit;
  return run_scan(*n, std::move(range), cb, ud);
}

int StorageService::scan_prefix(parley_storage_ns ns, const uint8_t* prefix, size_t prefix_len,
                                uint32_t flags, size_t limit, parley_storage_scan_cb cb,
                                void* ud) {
  if (stopping_) return PARLEY_ECANCELED;
  const storage::Ns* n = lookup(ns);
  if (!n || !cb || (!prefix && prefix_len)) return PARLEY_EINVAL;
  storage::ScanRange range;
  range.start.assign(bytes(prefix, prefix_len));
  // The exclusive end of the prefix: drop trailing 0xFF bytes, add one.
  range.end = range.start;
  while (!range.end.empty() && static_cast<unsigned char>(range.end.back()) == 0xFF)
    range.end.pop_back();
  if (!range.end.empty())
    range.end.back() = static_cast<char>(static_cast<unsigned char>(range.end.back()) + 1);
  range.reverse = (flags & PARLEY_SCAN_REVERSE) != 0;
  range.limit = limit;
  return run_scan(*n, std::move(range), cb, ud);
}

int StorageService::run_scan(storage::Ns ns, storage::ScanRange range, parley_storage_scan_cb cb,
                             void* ud) {
  struct Job {
    storage::Ns ns;
    storage::ScanRange range;
    storage::ScanResult result;
    storage::Status status;
  };
  auto job = std::make_shared<Job>();
  job->ns = ns;
  job->range = std::move(range);
  storage::Db* db = db_.get();
  try {
    owner_.queue_work(
        [job, db] { job->status = db->scan(job->ns, job->range, &job->result); },
        [job, cb, ud](int status) {
          int rc = status != 0 ? (status == PARLEY_ECANCELED ? status : PARLEY_EUNAVAIL)
                               : to_parley_error(job->status);
          if (rc != 0) {
            cb(ud, rc, nullptr, 0, 0);
            return;
          }
          std::vector<parley_storage_kv> kv;
          kv.reserve(job->result.items.size());
          for (const auto& item : job->result.items)
            kv.push_back({reinterpret_cast<const uint8_t*>(item.key.data()), item.key.size(),
                          reinterpret_cast<const uint8_t*>(item.value.data()), item.value.size()});
          cb(ud, 0, kv.data(), kv.size(), job->result.more ? 1 : 0);
        });
  } catch (const parley::Error&) {
    return PARLEY_ECANCELED;
  }
  return 0;
}

// Writer thread (or, for a Db already closed, the calling thread).
void StorageService::on_written(parley_storage_write_cb cb, void* ud, const storage::Status& st) {
  int rc = to_parley_error(st);
  if (rc == 0)
    committed_.add();
  else
    failed_.add();
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->items.push_back({cb, ud, rc});
    if (!mailbox_->posted && !mailbox_->closed) post = mailbox_->posted = true;
  }
  if (!post) return;
  auto* hold = new std::shared_ptr<Mailbox>(mailbox_);
  if (parley::api().post_to_loop(&StorageService::drain_posted, hold) != 0) {
    // The loop is stopping: shutdown() delivers what is in the mailbox.
    delete hold;
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->posted = false;
  }
}

// Loop thread.
void StorageService::drain_posted(void* data) {
  std::unique_ptr<std::shared_ptr<Mailbox>> hold(static_cast<std::shared_ptr<Mailbox>*>(data));
  Mailbox& m = **hold;
  std::vector<Completion> items;
  StorageService* service = nullptr;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.posted = false;
    if (m.closed) return;  // shutdown() delivered them
    items.swap(m.items);
    service = m.service;
  }
  service->deliver(items);
}

void StorageService::deliver(std::vector<Completion>& items) {
  for (const Completion& c : items)
    if (c.cb) c.cb(c.ud, c.status);
  if (!stopping_) wal_syncs_.set(static_cast<double>(db_->stats().wal_syncs));
}

}  // namespace parley::persistence
