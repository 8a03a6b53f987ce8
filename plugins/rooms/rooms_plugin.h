// The rooms plugin's SDK glue: methods and events of PROTOCOL.md §6 over the
// storage service, the auth service (member validation) and the kernel's
// fanout. The rules themselves live in rooms_logic.h and send_sequencer.h.
//
// Memory: rooms (record + members + sequence state) live in a bounded LRU
// cache (config room_cache_size); a room with sends or a membership change
// in progress is never evicted. Every method checks membership against the
// cache, so the hot path (send, typing, history of an active room) never
// reads the room from disk.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lru_cache.h"
#include "parley/plugin.hpp"
#include "parley/services/auth.h"
#include "parley/services/rooms.h"
#include "parley/services/storage.hpp"
#include "rooms_logic.h"
#include "send_sequencer.h"

namespace parley::rooms_plugin {

struct RoomsConfig {
  size_t max_members = 1000;
  size_t max_text_bytes = 16384;
  size_t room_cache_size = 100000;
  size_t user_cache_size = 100000;
  size_t dedupe_cache_size = 65536;
  size_t max_send_batch = 256;
};

// One room in memory.
struct RoomEntry {
  RoomRecord rec;
  SeqState seq;  // durable: last_seq counts only committed messages
  SendSequencer sequencer;
  // c_str()s of rec.members' ids, for send_event_to_users (rebuilt on change).
  std::vector<const char*> member_ids;
  // Membership changes of one room run one at a time (read-modify-write of
  // the room record).
  bool mutating = false;
  std::deque<std::function<void(RoomEntry&, std::function<void()>)>> mutations;
  int pins = 0;  // callers iterating over waiters hold the entry

  void refresh_member_ids();
  bool busy() const {
    return !sequencer.idle() || mutating || !mutations.empty() || pins > 0;
  }
};

// A copy of a room for answers built after several asynchronous loads.
struct RoomSnapshot {
  RoomRecord rec;
  SeqState seq;
};

// A send waiting for its dedupe check, its seq or its commit.
struct PendingSend {
  Deferred req;
  parley_conn_id conn = 0;
  std::string sender, room_id, client_msg_id, text, dedupe;
  // After the dedupe check: the seq of the already stored message, or the
  // storage error that made the check fail.
  uint64_t stored_seq = 0;
  int check_error = 0;
  std::string message;  // the encoded Message once a seq is assigned
  uint64_t seq = 0;
  // Sends with the same (sender, room, client_msg_id) that arrived while this
  // one was pending: they get this one's outcome.
  std::vector<Deferred> followers;
};

class RoomsPlugin : public Plugin {
 public:
  static constexpr const char* kName = "rooms";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kRequires[] = {"storage", "auth", nullptr};
  static constexpr const char* kProvides[] = {"rooms", nullptr};

  RoomsPlugin();
  ~RoomsPlugin() override;
  void init(const Config& cfg) override;
  void on_all_loaded() override;

  // The live instance, for the exported C service (its functions take no
  // handle). Set in init, cleared at shutdown.
  static RoomsPlugin* instance();

  // Loads a room into the cache (or finds it there) and calls fn(0, entry),
  // before returning when cached; fn(PARLEY_ENOENT, nullptr) for an unknown
  // room, fn(error, nullptr) when storage failed. The entry pointer is valid
  // for the duration of fn.
  using RoomFn = std::function<void(int status, RoomEntry* room)>;
  void with_room(const std::string& room_id, RoomFn fn);
  // Every room of user_id (copies), newest activity first.
  using RoomsFn = std::function<void(int status, std::vector<RoomSnapshot> rooms)>;
  void rooms_of(const std::string& user_id, RoomsFn fn);
  // The ids of user_id's rooms: from the user cache, else one prefix scan of
  // the user index (then cached). The vector is borrowed for fn.
  using RoomIdsFn = std::function<void(int status, const std::vector<std::string>& ids)>;
  void room_ids_of(const std::string& user_id, RoomIdsFn fn);

 private:
  // ---- handlers (rooms_membership.cc)
  void handle_open_direct(Request& req, span<const uint8_t> payload);
  void handle_create(Request& req, span<const uint8_t> payload);
  void handle_get(Request& req, span<const uint8_t> payload);
  void handle_list(Request& req, span<const uint8_t> payload);
  void handle_add_members(Request& req, span<const uint8_t> payload);
  void handle_remove_member(Request& req, span<const uint8_t> payload);
  void handle_leave(Request& req, span<const uint8_t> payload);
  // ---- handlers (rooms_messages.cc)
  void handle_send(Request& req, span<const uint8_t> payload);
  void handle_history(Request& req, span<const uint8_t> payload);
  void handle_typing(Request& req, span<const uint8_t> payload);

  // ---- membership helpers
  void open_direct_pair(Deferred d, const std::string& me, const std::string& peer);
  void create_direct(const std::string& pair, const std::string& me,
                     const std::string& peer, parley_conn_id except);
  void finish_pair(const std::string& pair, int status, const std::string& room_id);
  using Mutation = std::function<void(RoomEntry&, std::function<void()> done)>;
  void mutate(const std::string& room_id, Deferred d, Mutation m);
  void run_mutations(const std::string& room_id);
  // Persists next as the room's record, with the user index updated for
  // added and removed users; applies it to the cache on success.
  void commit_membership(const std::string& room_id, RoomRecord next,
                         std::vector<std::string> added,
                         std::vector<std::string> removed,
                         std::function<void(int status)> done);
  // A new room: record, seq state and user index in one batch; cached on
  // success. extra_puts (key, value) join the batch (the direct pair).
  void commit_new_room(RoomRecord rec,
                       std::vector<std::pair<std::string, std::string>> extra_puts,
                       std::function<void(int status)> done);
  // rooms.updated to every member and to `extra` users (a removed member),
  // except one connection; and the rooms.room_changed bus topic.
  void notify_room_changed(const RoomEntry& e, const std::vector<std::string>& extra,
                           parley_conn_id except);
  // Looks every id up in the auth service: done(0, "") when all exist,
  // done(PARLEY_ENOENT, id) naming a missing one, or done(error, "").
  void check_users_exist(std::vector<std::string> ids,
                         std::function<void(int status, std::string missing)> done);

  // ---- send pipeline (rooms_messages.cc)
  void start_send(RoomEntry& e, Deferred d, std::string client_msg_id, std::string text);
  void pump(const std::string& room_id);
  void commit_sends(RoomEntry& e, const std::vector<std::pair<uint64_t, uint64_t>>& batch);
  void on_sends_committed(const std::string& room_id, const std::vector<uint64_t>& tokens,
                          uint64_t now, int status);
  void reply_stored(const std::string& room_id, uint64_t seq, std::vector<Deferred> to);
  std::unique_ptr<PendingSend> take_pending(uint64_t token);

  RoomEntry* insert_room(RoomRecord rec, SeqState seq);
  // Keeps the user cache right after a committed membership change.
  void user_rooms_changed(const std::string& user_id, const std::string& room_id, bool added);

  RoomsConfig cfg_;
  Storage storage_;
  Storage::Ns ns_ = 0;
  const parley_auth_v1* auth_ = nullptr;
  parley_rooms_v1 service_{};

  LruCache<RoomEntry> rooms_;
  std::unordered_map<std::string, std::vector<RoomFn>> loading_;
  // Direct pairs being looked up or created: waiters get the room id.
  std::unordered_map<std::string,
                     std::vector<std::function<void(int, const std::string&)>>>
      pairs_pending_;

  // user id → ids of the user's rooms (bounded; filled by room_ids_of).
  LruCache<std::vector<std::string>> user_rooms_;
  // Users with an index scan in flight, and those of them whose membership
  // changed meanwhile (their scan result is then not cached).
  std::unordered_map<std::string, int> user_scans_;
  std::unordered_set<std::string> users_changed_during_scan_;

  uint64_t next_token_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<PendingSend>> sends_;
  std::unordered_map<std::string, uint64_t> sends_by_dedupe_;
  // Recently stored sends: dedupe key → seq, so a quick resend skips the
  // storage lookup.
  LruCache<uint64_t> recent_sends_;

  Metric sends_total_, deliveries_total_, send_batches_total_;
};

// Wraps a storage callback so it does nothing once the plugin is gone: the
// persistence plugin shuts down after rooms and completes (cancels) what is
// still in flight then. Captured Deferreds still answer when destroyed.
template <class F>
auto guarded(F f) {
  return [f = std::move(f)](auto&&... args) mutable {
    if (RoomsPlugin::instance()) f(std::forward<decltype(args)>(args)...);
  };
}

// Status and message for a storage or auth error.
void fail_status(Deferred& d, int err, const char* what);
void fail(Deferred& d, const Error& e);
// d.error() without its result, so lambdas can `return refuse(...)`.
inline void refuse(Deferred& d, uint16_t status, const std::string& message) {
  d.error(status, message);
}
// "" for a null string.
inline std::string str_of(const flatbuffers::String* s) {
  return s ? std::string(s->c_str(), s->size()) : std::string();
}

}  // namespace parley::rooms_plugin
