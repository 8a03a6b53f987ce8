// Event delivery to users (SDK session_authenticate / session_clear /
// send_event_to_users): the host's own user -> connections index and a small
// cache of resolved recipient lists.
//
// Why: the rooms plugin sends every message of a room to the same member
// list (one `const char* const*` array per room, rebuilt only when the
// membership changes), and used to pay, per recipient and per message, a
// string hash + lookup, a heap-allocated copy of the user's connection ids
// and a connection table lookup inside Core::queue_to_user. Here a list of
// recipients is resolved to connection ids once, and reused while neither
// the list nor any user binding changed: a hit costs a pointer compare and a
// string compare per recipient, then Core::queue per connection.
//
// The index mirrors the connection layer's: every Core::set_user goes
// through bind() (the SDK's session functions are its only callers), and a
// connection leaves it in Dispatcher::on_conn_closed. The caller passes the
// connection's current user (ConnInfo::user_id), so the index costs one
// ConnId per authenticated connection and nothing else. A stale entry is
// harmless: Core::queue refuses a connection that is gone, exactly as
// queue_to_user skipped it (connection ids are never reused).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core.h"

namespace parley::kernel::host {

class Delivery {
 public:
  explicit Delivery(Core& core) : core_(core) {}
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // Core::set_user, and on success the index follows (empty user: unbound).
  // `previous`: the user the connection is bound to now ("" if none).
  int bind(ConnId conn, std::string_view previous, std::string_view user_id);
  // The connection, bound to `user` ("" if none), is gone.
  void drop(ConnId conn, std::string_view user);
  // Queues `frame` to every connection of every listed user except `except`
  // (null or empty ids are skipped; a user listed twice gets it twice, as
  // with one queue_to_user per entry). Returns how many it was queued to.
  int64_t to_users(const char* const* user_ids, size_t n, const FramePtr& frame, ConnId except);

  // Lists shorter than this are looked up directly (nothing to amortise).
  static constexpr size_t kMinCachedList = 8;
  static constexpr size_t kCacheEntries = 16;

  // For tests: resolutions reused / rebuilt.
  uint64_t cache_hits() const { return hits_; }
  uint64_t cache_misses() const { return misses_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using ConnList = std::vector<ConnId>;
  // One resolved recipient list, keyed by the caller's array and length;
  // valid while the index generation is unchanged and the strings match.
  struct Resolved {
    const char* const* ids = nullptr;
    size_t n = 0;
    uint64_t generation = 0;
    std::vector<const char*> ptrs;
    std::vector<std::string> users;
    std::shared_ptr<const ConnList> conns;
  };

  void append_conns(const char* user, ConnList& out) const;
  std::shared_ptr<const ConnList> resolve(const char* const* user_ids, size_t n);
  static bool same_list(const Resolved& r, const char* const* user_ids, size_t n);

  Core& core_;
  std::unordered_map<std::string, ConnList, StringHash, std::equal_to<>> by_user_;
  uint64_t generation_ = 1;
  std::array<Resolved, kCacheEntries> cache_{};
  size_t next_victim_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace parley::kernel::host
