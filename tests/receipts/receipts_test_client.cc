#include "receipts_test_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

namespace parley::test::receipts {

ServerOptions server_options(const ServerSetup& setup) {
  ServerOptions o;
  o.plugins_yaml =
      "persistence: {config: {durability: " + setup.durability + "}}\n" +
      "auth: {config: {argon2_memory_kib: 8, argon2_iterations: 1}}\n" + "rooms: {}\n" +
      "receipts: {config: {coalesce_ms: " + std::to_string(setup.coalesce_ms) + "}}\n" +
      "receiptsprobe: {path: \"" + test_plugin_dir() + "/libreceiptsprobe.so\"}\n";
  return o;
}

std::unique_ptr<ServerProcess> start_server(const ServerSetup& setup) {
  std::string error;
  auto s = ServerProcess::start(server_options(setup), &error);
  EXPECT_TRUE(s) << error;
  return s;
}

// ----------------------------------------------------------------- rooms ---

std::string create_room(Client& c, const std::vector<std::string>& member_ids,
                        const std::string& name) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
  for (const auto& m : member_ids) ids.push_back(fbb.CreateString(m));
  auto n = fbb.CreateString(name);
  auto v = fbb.CreateVector(ids);
  fbb.Finish(rfb::CreateCreate(fbb, n, v), "PROM");
  Incoming r = c.call("rooms.create", fbb, 10000);
  EXPECT_TRUE(r.ok()) << "rooms.create: " << r.status << " " << r.error;
  auto* room = payload_as<rfb::Room>(r, "PROM");
  return room && room->room_id() ? room->room_id()->str() : "";
}

uint64_t send_messages(Client& c, const std::string& room_id, int n) {
  static std::atomic<int> counter{0};
  uint64_t last = 0;
  for (int i = 0; i < n; ++i) {
    std::string cmid = "m" + std::to_string(counter.fetch_add(1));
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(rfb::CreateSendDirect(fbb, room_id.c_str(), cmid.c_str(), "hello"), "PROM");
    Incoming r = c.call("rooms.send", fbb, 10000);
    EXPECT_TRUE(r.ok()) << "rooms.send: " << r.status << " " << r.error;
    auto* m = payload_as<rfb::Message>(r, "PROM");
    if (!m) return 0;
    last = m->seq();
  }
  return last;
}

bool add_members(Client& c, const std::string& room_id, const std::vector<std::string>& ids) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> v;
  for (const auto& m : ids) v.push_back(fbb.CreateString(m));
  auto r = fbb.CreateString(room_id);
  auto vv = fbb.CreateVector(v);
  fbb.Finish(rfb::CreateAddMembers(fbb, r, vv), "PROM");
  Incoming in = c.call("rooms.add_members", fbb, 10000);
  EXPECT_TRUE(in.ok()) << "rooms.add_members: " << in.status << " " << in.error;
  return in.ok();
}

// -------------------------------------------------------------- receipts ---

std::vector<uint8_t> mark(const std::string& room_id, uint64_t seq) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(pfb::CreateMarkDirect(fbb, room_id.c_str(), seq), "PRCP");
  return bytes_of(fbb);
}

std::vector<uint8_t> room_ref(const std::string& room_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(pfb::CreateRoomRefDirect(fbb, room_id.c_str()), "PRCP");
  return bytes_of(fbb);
}

Incoming mark_read(Client& c, const std::string& room_id, uint64_t seq) {
  return c.call("receipts.mark_read", mark(room_id, seq));
}

Incoming mark_delivered(Client& c, const std::string& room_id, uint64_t seq) {
  return c.call("receipts.mark_delivered", mark(room_id, seq));
}

namespace {
ReceiptView view_of(const pfb::Receipt& r) {
  ReceiptView v;
  v.room_id = r.room_id() ? r.room_id()->str() : "";
  v.user_id = r.user_id() ? r.user_id()->str() : "";
  v.read_seq = r.read_seq();
  v.delivered_seq = r.delivered_seq();
  v.updated_at = r.updated_at();
  return v;
}
}  // namespace

std::optional<std::vector<ReceiptView>> get_receipts(Client& c, const std::string& room_id,
                                                     uint16_t* status) {
  Incoming r = c.call("receipts.get", room_ref(room_id));
  if (status) *status = r.status;
  if (!r.ok()) return std::nullopt;
  auto* list = payload_as<pfb::ReceiptList>(r, "PRCP");
  if (!list) {
    ADD_FAILURE() << "receipts.get: payload is not a ReceiptList";
    return std::nullopt;
  }
  std::vector<ReceiptView> out;
  if (list->receipts())
    for (const auto* x : *list->receipts()) out.push_back(view_of(*x));
  return out;
}

std::optional<ReceiptView> receipt_of(const std::vector<ReceiptView>& list,
                                      const std::string& user_id) {
  for (const auto& r : list)
    if (r.user_id == user_id) return r;
  return std::nullopt;
}

std::optional<ReceiptView> as_receipt(const Incoming& event) {
  auto* r = payload_as<pfb::Receipt>(event, "PRCP");
  if (!r) return std::nullopt;
  return view_of(*r);
}

std::optional<std::vector<UnreadView>> get_unread(Client& c) {
  Incoming r = c.call("receipts.unread");
  EXPECT_TRUE(r.ok()) << "receipts.unread: " << r.status << " " << r.error;
  if (!r.ok()) return std::nullopt;
  auto* list = payload_as<pfb::UnreadList>(r, "PRCP");
  if (!list) {
    ADD_FAILURE() << "receipts.unread: payload is not an UnreadList";
    return std::nullopt;
  }
  std::vector<UnreadView> out;
  if (list->rooms())
    for (const auto* x : *list->rooms())
      out.push_back(UnreadView{x->room_id() ? x->room_id()->str() : "", x->last_seq(),
                               x->read_seq(), x->unread()});
  return out;
}

std::optional<UnreadView> unread_of(const std::vector<UnreadView>& rows,
                                    const std::string& room_id) {
  for (const auto& r : rows)
    if (r.room_id == room_id) return r;
  return std::nullopt;
}

// --------------------------------------------------------------- metrics ---

double metric(Client& c, const std::string& series) {
  Incoming r = c.call("receiptsprobe.metrics");
  EXPECT_TRUE(r.ok()) << "receiptsprobe.metrics: " << r.status << " " << r.error;
  auto p = r.payload();
  std::string text(reinterpret_cast<const char*>(p.data()), p.size());
  std::string needle = series + " ";
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n')
      return std::strtod(text.c_str() + pos + needle.size(), nullptr);
    pos += needle.size();
  }
  return -1;
}

}  // namespace parley::test::receipts
