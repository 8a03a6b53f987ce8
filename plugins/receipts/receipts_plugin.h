// The receipts plugin's SDK glue: the methods and event of PROTOCOL.md §7
// over the storage service (durability), the rooms service v1 (membership,
// last_seq, a user's rooms) and the rooms bus topics (keeping both current).
// The rules live in receipts_logic.h; the in-memory model in
// receipts_state.h.
//
// Promise of a mark: its Response is sent once the watermark it asked for is
// durable (`Ok` then survives a crash as the storage is configured), or at
// once when it already was. Marks are coalesced: every receipt moved during
// one window (config `coalesce_ms`) is written in one storage batch and
// announced with one `receipts.updated` per (room, member) carrying its
// newest watermark — see FlushPolicy.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "parley/plugin.hpp"
#include "parley/receipts_generated.h"
#include "parley/services/rooms.hpp"
#include "parley/services/storage.hpp"
#include "receipts_logic.h"
#include "receipts_state.h"

namespace parley::receipts {

class ReceiptsPlugin : public Plugin {
 public:
  static constexpr const char* kName = "receipts";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kRequires[] = {"storage", "rooms", nullptr};

  ReceiptsPlugin() = default;
  ~ReceiptsPlugin() override;
  void init(const Config& cfg) override;
  void on_all_loaded() override;

 private:
  using Done = std::function<void(int status)>;

  // ---- handlers
  void handle_mark(Request& req, span<const uint8_t> payload, MarkKind kind);
  void handle_get(Request& req, span<const uint8_t> payload);
  void handle_unread(Request& req, span<const uint8_t> payload);

  // Asks the rooms service for the room (from memory for an active room),
  // records what it says, and calls fn(0) when user_id is a member; answers
  // d with NotFound / PermissionDenied / Unavailable otherwise.
  void with_membership(Deferred d, const std::string& room_id,
                       std::function<void(Deferred& d, uint64_t last_seq)> fn);
  // rooms.message_stored: grows last_seq and marks the room read by the
  // sender up to their message.
  void on_message_stored(const std::string& room_id, const std::string& sender, uint64_t seq,
                         uint64_t created_at);
  void apply_mark(Deferred d, const std::string& room_id, MarkKind kind, uint64_t seq);
  void reply_receipts(Deferred& d, const std::string& room_id);
  void reply_unread(Request* req, Deferred* d, std::chrono::steady_clock::time_point start);
  // Read-your-writes for get and unread: answers once what is pending now
  // for the caller's own receipts shown (their marks, their implicit read
  // of their own messages) is durable, so the answer still shows durable
  // watermarks only (§7) yet includes every mark of theirs accepted before
  // the request. Waits for the batches pending now only (at most
  // coalesce_ms + one commit): later marks never delay it, and other
  // members' pending marks never do.
  void reply_receipts_when_durable(Deferred d, const std::string& room_id);
  void reply_unread_when_durable(Deferred d, std::chrono::steady_clock::time_point start);
  // Calls fn once every batch in ids has completed (committed or failed).
  void after_batches(const std::vector<uint64_t>& ids, std::function<void()> fn);

  // ---- loading (each runs at most one storage read per key at a time)
  void load_room_receipts(const std::string& room_id, Done done);
  void load_user_receipts(const std::string& user_id, Done done);
  void load_user_index(const std::string& user_id, Done done);

  // ---- coalesced commits
  void maybe_flush();
  void flush();
  void on_committed(const Batch& batch, int status);
  void announce(const ReceiptRef& r);

  // Wraps a callback so it does nothing once the plugin is gone (storage
  // and rooms shut down after us and complete what is in flight then).
  template <class F>
  auto guarded(F f) {
    std::weak_ptr<int> alive = alive_;
    return [alive, f = std::move(f)](auto&&... args) mutable {
      if (alive.lock()) f(std::forward<decltype(args)>(args)...);
    };
  }

  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  Storage storage_;
  Storage::Ns ns_ = 0;
  Rooms rooms_;
  ReceiptState state_;
  FlushPolicy policy_;
  Timer window_timer_;

  // Callers waiting for a batch to complete, by batch id (called with the
  // commit status after the state has taken it in).
  std::unordered_map<uint64_t, std::vector<Done>> waiters_;
  // Callers waiting for a load already on its way, by room or user id.
  std::unordered_map<std::string, std::vector<Done>> room_loads_, user_loads_, index_loads_;

  Metric marks_total_, marks_coalesced_total_, commits_total_, receipts_written_total_,
      updates_total_, deliveries_total_, unread_seconds_;
};

}  // namespace parley::receipts
