// rooms.send (the durable, gap-free send pipeline), rooms.history and
// rooms.typing.
//
// A send's life: validated → membership checked in the cache → dedupe:
// a same-key send still pending gets this one's outcome; a recently stored
// one (memory) or a stored one (a storage get of the dedupe index) is
// answered with the stored Message → otherwise it waits in the room's
// SendSequencer, gets the next seq from the head of the queue, and goes into
// the room's next batch (message + dedupe index + room last_seq, atomic).
// When the batch is durable: the Response, then one rooms.message event
// encoded once for every member connection except the sender's, then the
// rooms.message_stored bus topic. Sends of many rooms commit concurrently
// and the storage service groups their fsyncs.
#include <stdexcept>

#include "parley/util/keys.hpp"
#include "parley/util/uuid.hpp"
#include "rooms_plugin.h"

namespace parley::rooms_plugin {

namespace rfb = parley::rooms;

namespace {
constexpr const char* kIdent = "PROM";
}

void RoomsPlugin::handle_send(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::Send>(payload, kIdent);
  if (!p)
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "payload is not a parley.rooms.Send");
  std::string room = str_of(p->room_id());
  std::string cmid = str_of(p->client_msg_id());
  std::string text = str_of(p->text());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  if (auto c = validate_client_msg_id(cmid)) return req.error(c->status, c->message);
  if (auto c = validate_text(text, cfg_.max_text_bytes)) return req.error(c->status, c->message);
  Deferred d = req.defer();
  auto body = std::make_shared<std::pair<std::string, std::string>>(std::move(cmid), std::move(text));
  with_room(room, [this, d, body](int st, RoomEntry* e) mutable {
    if (st != 0) return fail_status(d, st, "room");
    if (auto c = check_member(e->rec, d.user())) return fail(d, *c);
    start_send(*e, d, std::move(body->first), std::move(body->second));
  });
}

void RoomsPlugin::start_send(RoomEntry& e, Deferred d, std::string client_msg_id,
                             std::string text) {
  const std::string& room_id = e.rec.room_id;
  std::string dkey = dedupe_key(d.user(), room_id, client_msg_id);
  if (auto it = sends_by_dedupe_.find(dkey); it != sends_by_dedupe_.end()) {
    sends_[it->second]->followers.push_back(d);
    return;
  }
  if (uint64_t* seq = recent_sends_.find(dkey)) {
    reply_stored(room_id, *seq, {d});
    return;
  }
  auto ps = std::make_unique<PendingSend>();
  ps->req = d;
  ps->conn = d.conn();
  ps->sender = d.user();
  ps->room_id = room_id;
  ps->client_msg_id = std::move(client_msg_id);
  ps->text = std::move(text);
  ps->dedupe = dkey;
  uint64_t token = ++next_token_;
  sends_by_dedupe_[dkey] = token;
  sends_[token] = std::move(ps);
  e.sequencer.enqueue(token);
  // The dedupe index is the only read on the send path; it is a point get
  // of a key that usually does not exist (bloom filters answer it).
  storage_.get(ns_, dkey, guarded([this, token](int st, std::string_view v) {
    auto it = sends_.find(token);
    if (it == sends_.end()) return;
    PendingSend& ps = *it->second;
    bool duplicate = false;
    if (st == 0) {
      duplicate = true;
      if (auto seq = keys::decode_u64(v)) ps.stored_seq = *seq;
      else ps.check_error = PARLEY_ECORRUPT;
    } else if (st != PARLEY_ENOENT) {
      duplicate = true;  // not sendable: answered with the error below
      ps.check_error = st;
    }
    RoomEntry* e = rooms_.peek(ps.room_id);
    if (!e) return;  // cannot happen: a room with queued sends is pinned
    e->sequencer.resolve(token, duplicate);
    // A copy: pump() may destroy this PendingSend (take_pending) while it
    // still uses the room id (found by tests/crash: ECORRUPT "stored message").
    pump(std::string(ps.room_id));
  }));
}

std::unique_ptr<PendingSend> RoomsPlugin::take_pending(uint64_t token) {
  auto node = sends_.extract(token);
  if (node.empty()) return nullptr;
  std::unique_ptr<PendingSend> ps = std::move(node.mapped());
  sends_by_dedupe_.erase(ps->dedupe);
  return ps;
}

void RoomsPlugin::reply_stored(const std::string& room_id, uint64_t seq,
                               std::vector<Deferred> to) {
  storage_.get(ns_, message_key(room_id, seq),
               guarded([to = std::move(to)](int st, std::string_view v) mutable {
                 for (Deferred& d : to) {
                   if (st != 0) fail_status(d, st == PARLEY_ENOENT ? PARLEY_ECORRUPT : st, "stored message");
                   else d.reply(span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
                 }
               }));
}

void RoomsPlugin::pump(const std::string& room_id) {
  RoomEntry* e = rooms_.peek(room_id);
  if (!e) return;
  SendSequencer::Step step = e->sequencer.take(cfg_.max_send_batch);
  for (uint64_t token : step.duplicates) {
    std::unique_ptr<PendingSend> ps = take_pending(token);
    if (!ps) continue;
    std::vector<Deferred> to = std::move(ps->followers);
    to.push_back(ps->req);
    if (ps->check_error != 0) {
      for (Deferred& d : to) fail_status(d, ps->check_error, "dedupe lookup");
    } else {
      recent_sends_.put(ps->dedupe, std::make_unique<uint64_t>(ps->stored_seq));
      reply_stored(room_id, ps->stored_seq, std::move(to));
    }
  }
  if (!step.batch.empty()) commit_sends(*e, step.batch);
}

void RoomsPlugin::commit_sends(RoomEntry& e,
                               const std::vector<std::pair<uint64_t, uint64_t>>& batch) {
  const std::string room_id = e.rec.room_id;
  const uint64_t now = util::now_ms();
  std::vector<uint64_t> tokens;
  tokens.reserve(batch.size());
  try {
    auto b = storage_.batch();
    uint64_t last = 0;
    for (const auto& [token, seq] : batch) {
      PendingSend& ps = *sends_.at(token);
      ps.seq = seq;
      ps.message = encode_message(MessageFields{util::uuid7(now), room_id, ps.sender,
                                                ps.text, ps.client_msg_id, seq, now});
      ps.text.clear();
      ps.text.shrink_to_fit();
      b.put(ns_, message_key(room_id, seq), ps.message);
      b.put(ns_, ps.dedupe, keys::encode_u64(seq));
      tokens.push_back(token);
      last = seq;
    }
    b.put(ns_, room_seq_key(room_id), encode_seq_state(SeqState{last, now}));
    send_batches_total_.add();
    storage_.commit(std::move(b), guarded([this, room_id, tokens, now](int st) {
      on_sends_committed(room_id, tokens, now, st);
    }));
  } catch (const std::exception& ex) {
    error("building a send batch failed: %s", ex.what());
    tokens.clear();
    for (const auto& entry : batch) tokens.push_back(entry.first);
    on_sends_committed(room_id, tokens, now, PARLEY_EUNAVAIL);
  }
}

void RoomsPlugin::on_sends_committed(const std::string& room_id,
                                     const std::vector<uint64_t>& tokens, uint64_t now,
                                     int status) {
  RoomEntry* e = rooms_.peek(room_id);
  if (!e) return;  // cannot happen: pinned while a commit is in flight
  e->sequencer.commit_done(status == 0);
  if (status == 0) {
    e->seq.last_seq = e->sequencer.last_seq();
    e->seq.last_activity = now;
  }
  for (uint64_t token : tokens) {
    std::unique_ptr<PendingSend> ps = take_pending(token);
    if (!ps) continue;
    if (status != 0) {
      fail_status(ps->req, status, "store message");
      for (Deferred& f : ps->followers) fail_status(f, status, "store message");
      continue;
    }
    span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(ps->message.data()),
                              ps->message.size());
    ps->req.reply(bytes);
    for (Deferred& f : ps->followers) f.reply(bytes);
    // One encoding for every recipient connection; the kernel shares it.
    int64_t n = api().send_event_to_users(e->member_ids.data(), e->member_ids.size(),
                                          "rooms.message", bytes.data(), bytes.size(),
                                          ps->conn);
    if (n > 0) deliveries_total_.add(static_cast<double>(n));
    api().publish(self(), PARLEY_ROOMS_TOPIC_MESSAGE_STORED, bytes.data(), bytes.size());
    recent_sends_.put(ps->dedupe, std::make_unique<uint64_t>(ps->seq));
    sends_total_.add();
  }
  pump(room_id);
}

// ------------------------------------------------------------ history ---

void RoomsPlugin::handle_history(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::History>(payload, kIdent);
  if (!p)
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "payload is not a parley.rooms.History");
  std::string room = str_of(p->room_id());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  HistoryQuery q{p->before_seq(), p->after_seq(), p->limit()};
  Deferred d = req.defer();
  with_room(room, [this, d, room, q](int st, RoomEntry* e) mutable {
    if (st != 0) return fail_status(d, st, "room");
    if (auto c = check_member(e->rec, d.user())) return fail(d, *c);
    ScanRange range = history_range(room, q);
    auto answer = [](Deferred& d, const std::vector<std::string>& page, bool has_more) {
      flatbuffers::FlatBufferBuilder fbb(1024);
      std::vector<flatbuffers::Offset<rfb::Message>> offs;
      offs.reserve(page.size());
      for (const std::string& v : page)
        if (const rfb::Message* m = verify_message(v)) offs.push_back(copy_message(fbb, *m));
      fbb.Finish(rfb::CreateMessageList(fbb, fbb.CreateVector(offs), has_more),
                 rfb::RoomIdentifier());
      d.reply(fbb);
    };
    if (range.empty) return answer(d, {}, false);
    storage_.scan(ns_, range.start, range.end, range.reverse, range.fetch,
                  guarded([d, range, answer](int st, const std::vector<Storage::Item>& items,
                                     bool) mutable {
                    if (st != 0) return fail_status(d, st, "history");
                    std::vector<std::string> values;
                    values.reserve(items.size());
                    for (const auto& it : items) values.emplace_back(it.value);
                    bool has_more = false;
                    auto page = history_page(range, std::move(values), &has_more);
                    answer(d, page, has_more);
                  }));
  });
}

// ------------------------------------------------------------- typing ---

void RoomsPlugin::handle_typing(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::Typing>(payload, kIdent);
  if (!p)
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "payload is not a parley.rooms.Typing");
  std::string room = str_of(p->room_id());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  bool typing = p->typing();
  Deferred d = req.defer();
  with_room(room, [d, room, typing](int st, RoomEntry* e) mutable {
    if (st != 0) return fail_status(d, st, "room");
    const std::string& me = d.user();
    if (auto c = check_member(e->rec, me)) return fail(d, *c);
    flatbuffers::FlatBufferBuilder fbb(128);
    fbb.Finish(rfb::CreateTypingEvent(fbb, fbb.CreateString(room), fbb.CreateString(me), typing),
               rfb::RoomIdentifier());
    std::vector<const char*> others;
    others.reserve(e->member_ids.size());
    for (const char* u : e->member_ids)
      if (me != u) others.push_back(u);
    api().send_event_to_users(others.data(), others.size(), "rooms.typing",
                              fbb.GetBufferPointer(), fbb.GetSize(), d.conn());
    d.reply();
  });
}

}  // namespace parley::rooms_plugin
