// The receipts plugin's in-memory model, free of the SDK so it is
// unit-tested without a server:
//  - what it knows of rooms (last_seq, members) from the rooms service and
//    the rooms bus topics — never from the rooms plugin's storage;
//  - each user's set of rooms, kept current from rooms.room_changed once
//    loaded (so receipts.unread is O(rooms of the user), no I/O);
//  - every receipt it has loaded or been asked to move, with its durable
//    (committed) and pending (accepted, not yet committed) watermarks;
//  - the batches of receipts handed to storage and not yet acknowledged.
//
// Visible state (receipts.get, receipts.unread, receipts.updated events) is
// always the durable watermark: nothing is shown that a crash could take
// back.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "receipts_logic.h"

namespace parley::receipts {

// One member's receipt in one room.
struct MemberReceipt {
  Watermark durable;        // acknowledged by storage
  Watermark pending;        // newest accepted; >= durable field-wise
  bool dirty = false;       // pending is not yet in any batch
  uint64_t last_batch = 0;  // newest in-flight batch holding this receipt
  // False for a sender's implicit read noted before the stored receipt was
  // loaded: `durable` is not known yet and the receipt cannot be written;
  // the load merges into it (see mark_before_load).
  bool stored_known = true;
};

struct RoomState {
  bool info_known = false;  // last_seq and members were learnt
  uint64_t last_seq = 0;
  uint64_t last_activity = 0;        // Unix ms, for ordering unread lists
  std::vector<std::string> members;  // join order
  // Every stored receipt of the room is in `receipts` (absent = zero).
  bool receipts_loaded = false;
  std::unordered_map<std::string, MemberReceipt> receipts;  // by user id
};

enum class IndexState { Absent, Loading, Loaded };

struct UserState {
  IndexState index = IndexState::Absent;
  std::unordered_set<std::string> rooms;  // valid when Loaded
  // Membership changes seen while the index was loading: room -> member?
  // Applied over the loaded list (they are at least as new as it).
  std::unordered_map<std::string, bool> changes_during_load;
  // Every stored receipt of this user is in the rooms' `receipts`.
  bool receipts_loaded = false;
};

// One receipt in a batch, or one that moved.
struct ReceiptRef {
  std::string room_id, user_id;
  Watermark value;
};

struct Batch {
  uint64_t id = 0;
  std::vector<ReceiptRef> entries;
};

struct UnreadRow {
  const std::string* room_id = nullptr;  // borrowed from the state
  uint64_t last_seq = 0, read_seq = 0, unread = 0, last_activity = 0;
};

class ReceiptState {
 public:
  // ---- rooms
  RoomState* find_room(const std::string& room_id);
  const RoomState* find_room(const std::string& room_id) const;
  // A room's current facts (rooms service answer or rooms.room_changed).
  // last_seq and last_activity only grow; members replace the previous
  // list, and every loaded (or loading) user index follows the change.
  void observe_room(const std::string& room_id, uint64_t last_seq, uint64_t last_activity,
                    std::vector<std::string> members);
  // The same from a borrowed C array (the rooms service's answer): copies
  // the members only when they changed, so a mark costs no allocation.
  void observe_room_ids(const std::string& room_id, uint64_t last_seq, uint64_t last_activity,
                        const char* const* ids, size_t n);
  // rooms.message_stored: grows last_seq of a room already known (a room
  // not known is learnt with its last_seq when first needed).
  void observe_message(const std::string& room_id, uint64_t seq, uint64_t created_at);

  // ---- user indexes
  UserState& user(const std::string& user_id) { return users_[user_id]; }
  const UserState* find_user(const std::string& user_id) const;
  void index_load_started(const std::string& user_id);
  // The user's rooms as the rooms service listed them (the rooms themselves
  // observed first with observe_room).
  void index_loaded(const std::string& user_id, const std::vector<std::string>& room_ids);
  // A failed load: back to Absent, so the next request tries again.
  void index_load_failed(const std::string& user_id);

  // ---- stored receipts
  // A receipt read from storage. Ignored when memory already knows the
  // stored receipt: memory is never older than storage (every write goes
  // through this state). Merged into a receipt noted by mark_before_load
  // (which becomes dirty when it is ahead of storage): a load never drops
  // nor lowers a mark.
  void load_receipt(const std::string& room_id, const std::string& user_id, const Watermark& w);
  // Every stored receipt of the room (of the user) was loaded: receipts
  // noted before the load and absent from storage start from zero.
  void room_receipts_loaded(const std::string& room_id);
  void user_receipts_loaded(const std::string& user_id);
  // Whether the stored receipt of (room, user) is known to memory.
  bool receipt_known(const std::string& room_id, const std::string& user_id) const;
  // The durable receipt (zero when none); meaningful when receipt_known.
  Watermark durable(const std::string& room_id, const std::string& user_id) const;

  // ---- marks and batches
  // Applies a mark whose seq is already clamped to the room's last_seq
  // (receipt_known must hold). Returns 0 when the durable receipt already
  // covers it (answer at once), else the id of the batch whose commit makes
  // it durable (the open batch, or one in flight).
  uint64_t mark(const std::string& room_id, const std::string& user_id, MarkKind kind, uint64_t seq,
                uint64_t now);
  // A mark of a receipt whose stored value is not known yet (the sender's
  // implicit read arriving before the room's receipts are loaded): kept in
  // memory at once, so no concurrent load can lose it, and written once a
  // load of the room or the user has merged the stored value into it.
  void mark_before_load(const std::string& room_id, const std::string& user_id, MarkKind kind,
                        uint64_t seq, uint64_t now);
  bool has_dirty() const { return !dirty_.empty(); }
  size_t dirty_count() const { return dirty_.size(); }
  uint64_t open_batch_id() const { return open_batch_; }
  // Moves every dirty receipt into a new in-flight batch (the open one).
  Batch take_batch();
  // The batch is durable: returns the receipts whose durable watermark
  // moved (value = the new durable watermark), in batch order.
  std::vector<ReceiptRef> commit_succeeded(const Batch& b);
  // The batch failed: receipts not changed since go back to their durable
  // watermark (their marks were answered with an error).
  void commit_failed(const Batch& b);

  // ---- read-your-writes
  // The batches whose commit makes durable what is pending now for the
  // user's own receipts in their rooms (pending_batches_of_user) or in one
  // room (pending_batches_of): the open batch for a dirty receipt, the
  // in-flight one otherwise. Empty when everything is durable.
  std::vector<uint64_t> pending_batches_of_user(const std::string& user_id) const;
  std::vector<uint64_t> pending_batches_of(const std::string& room_id,
                                           const std::string& user_id) const;

  // ---- unread
  // One row per room of the user (index and user receipts loaded), newest
  // activity first.
  std::vector<UnreadRow> unread_of(const std::string& user_id) const;

  size_t room_count() const { return rooms_.size(); }
  size_t user_count() const { return users_.size(); }

 private:
  MemberReceipt* find_receipt(const std::string& room_id, const std::string& user_id);
  void note_membership(const std::string& user_id, const std::string& room_id, bool member);
  // A receipt noted before its load becomes known with `stored` as durable.
  void settle_loaded(const std::string& room_id, const std::string& user_id, MemberReceipt& m,
                     const Watermark& stored);
  uint64_t pending_batch(const MemberReceipt& m) const;

  std::unordered_map<std::string, RoomState> rooms_;
  std::unordered_map<std::string, UserState> users_;
  std::unordered_set<std::string> loading_users_;
  std::vector<std::pair<std::string, std::string>> dirty_;  // (room, user)
  uint64_t open_batch_ = 1;
};

}  // namespace parley::receipts
