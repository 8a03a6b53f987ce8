#include "history.h"

#include "rooms_test_client.h"

namespace parley::test::crash {

namespace {

std::optional<Incoming> call_quietly(Client& c, const std::string& method,
                                     const std::vector<uint8_t>& payload, std::string* error) {
  uint64_t id = c.send(method, payload);
  auto in = c.read_response(id, 10000);
  if (!in || !in->ok()) {
    *error = method + ": " + (in ? std::to_string(in->status) + " " + in->error
                                 : "no answer (" + c.last_error() + ")");
    return std::nullopt;
  }
  return in;
}

}  // namespace

std::optional<std::vector<StoredMessage>> read_history(Client& c, const std::string& room_id,
                                                        uint64_t after_seq, std::string* error) {
  std::vector<StoredMessage> out;
  const bool backward = after_seq == 0;
  uint64_t cursor = backward ? 0 : after_seq;
  for (;;) {
    auto in = call_quietly(c, "rooms.history",
                           backward ? rooms::history(room_id, cursor, 0, 200)
                                    : rooms::history(room_id, 0, cursor, 200),
                           error);
    if (!in) return std::nullopt;
    const auto* list = rooms::as_message_list(*in);
    if (!list) {
      *error = "rooms.history answered without a MessageList";
      return std::nullopt;
    }
    if (!list->messages() || list->messages()->size() == 0) break;
    for (const auto* m : *list->messages()) {
      StoredMessage s;
      s.seq = m->seq();
      if (m->message_id()) s.message_id = m->message_id()->str();
      if (m->client_msg_id()) s.client_msg_id = m->client_msg_id()->str();
      if (m->text()) s.text = m->text()->str();
      out.push_back(std::move(s));
    }
    // Pages are ascending either way.
    cursor = backward ? list->messages()->Get(0)->seq()
                      : list->messages()->Get(list->messages()->size() - 1)->seq();
    if (!list->has_more()) break;
  }
  return out;
}

std::optional<uint64_t> last_seq_of(Client& c, const std::string& room_id, std::string* error) {
  auto in = call_quietly(c, "rooms.get", rooms::room_ref(room_id), error);
  if (!in) return std::nullopt;
  const auto* room = rooms::as_room(*in);
  if (!room) {
    *error = "rooms.get answered without a Room";
    return std::nullopt;
  }
  return room->last_seq();
}

}  // namespace parley::test::crash
