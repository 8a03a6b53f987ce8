// Request routing (the kernel's Dispatcher): the method table, the
// request handles given to handlers (the SDK's parley_request), the
// exactly-once rule, deadlines for deferred requests, per-method metrics,
// and connection events.
//
// A request's life: dispatched -> handler runs -> finished inside it (reply /
// reply_error), or deferred and finished later. The handle stays valid until
// the plugin finishes it, even when the kernel already answered on its behalf
// (deadline passed: Internal) or the connection is gone (reply dropped).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "core.h"
#include "plugin_record.h"

namespace parley::kernel::host {
// One registered method.
struct MethodEntry {
  std::string name;
  parley_plugin* plugin;
  parley_method_fn fn;
  uint32_t flags;
  void* ud;
  uint64_t calls_metric, errors_metric, latency_metric;
};
}  // namespace parley::kernel::host

struct parley_request {
  uint64_t seq = 0;
  parley::kernel::ConnId conn = 0;
  uint64_t request_id = 0;
  std::string method;
  std::string user;  // empty: not authenticated
  parley_plugin* plugin = nullptr;
  parley::kernel::host::MethodEntry* entry = nullptr;
  std::chrono::steady_clock::time_point started;
  bool in_handler = true;
  bool deferred = false;
  bool finished = false;   // the plugin answered
  bool responded = false;  // a Response went out (or was given up on)
  uint64_t deadline_ms = 0;
};

namespace parley::kernel::host {

class Host;

class Router final : public Dispatcher {
 public:
  explicit Router(Host& host);
  ~Router() override;

  // SDK register_method (init only): ENAMESPACE / EEXIST / ESTATE.
  int register_method(parley_plugin* plugin, const char* name, parley_method_fn fn,
                      uint32_t flags, void* ud);
  // SDK defer / reply / reply_error.
  int defer(parley_request* req);
  int finish(parley_request* req, uint16_t status, const char* error,
             const uint8_t* bytes, size_t len);
  bool valid(const parley_request* req) const { return live_.count(const_cast<parley_request*>(req)) != 0; }
  // After a plugin's shutdown: answer (Unavailable) and free what it left.
  void drop_requests(const parley_plugin* plugin);
  size_t live_requests() const { return live_.size(); }
  void close_handles();

  // Dispatcher
  void on_conn_opened(const ConnInfo& conn) override;
  void on_conn_closed(const ConnInfo& conn) override;
  void on_request(const ConnInfo& conn, uint64_t request_id, std::string_view method,
                  std::span<const uint8_t> payload) override;
  std::vector<PluginDesc> plugins() const override;
  std::vector<std::string> methods() const override;

 private:
  void respond(parley_request* req, uint16_t status, std::string_view error,
               std::span<const uint8_t> payload);
  void release(parley_request* req);
  void arm_deadline(parley_request* req);
  void disarm_deadline(parley_request* req);
  void reschedule();
  static void on_deadline_timer(uv_timer_t* t);
  void expire_deadlines();
  uint64_t now_ms() const;

  Host& host_;
  std::map<std::string, std::unique_ptr<MethodEntry>, std::less<>> methods_;
  std::unordered_map<parley_request*, std::unique_ptr<parley_request>> live_;
  std::set<std::pair<uint64_t, parley_request*>> deadlines_;  // (due ms, req)
  uv_timer_t* deadline_timer_;
  uint64_t next_seq_ = 1;
  uint64_t m_conns_open_, m_conns_total_, m_unimplemented_, m_unauthenticated_;
};

}  // namespace parley::kernel::host
