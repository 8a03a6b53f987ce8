// Helpers for the receipts integration tests: a parleyd with persistence,
// auth, rooms, receipts and the receiptsprobe test plugin; registered users
// on TLS connections; rooms and receipts payload builders and readers; the
// plugin's metrics. Built on tests/support (parley_test.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/auth_generated.h"
#include "parley/receipts_generated.h"
#include "parley/rooms_generated.h"
#include "parley_test.h"
#include "rooms_test_client.h"

namespace parley::test::receipts {

namespace pfb = parley::receipts;
namespace rfb = parley::rooms;

struct ServerSetup {
  int coalesce_ms = 100;
  std::string durability = "sync";  // persistence: sync | async
};

ServerOptions server_options(const ServerSetup& setup = {});
std::unique_ptr<ServerProcess> start_server(const ServerSetup& setup = {});

// Users and their connections: the rooms suite's helpers (connect after
// sys.hello, auth.register on a new connection, auth.resume on another).
using rooms::connect;
using rooms::Device;
using rooms::new_user;
using rooms::second_device;
using rooms::unknown_id;  // a room id that does not exist
using rooms::User;

// ---- rooms (ASSERT-style: failures are reported through gtest)
// rooms.create with the given members; returns the room id ("" on failure).
std::string create_room(Client& c, const std::vector<std::string>& member_ids,
                        const std::string& name = "room");
// rooms.send n messages; returns the last seq (0 on failure).
uint64_t send_messages(Client& c, const std::string& room_id, int n);
bool add_members(Client& c, const std::string& room_id, const std::vector<std::string>& ids);

// ---- receipts payloads (finished with "PRCP")
std::vector<uint8_t> mark(const std::string& room_id, uint64_t seq);
std::vector<uint8_t> room_ref(const std::string& room_id);

// receipts.mark_read / mark_delivered; the Response.
Incoming mark_read(Client& c, const std::string& room_id, uint64_t seq);
Incoming mark_delivered(Client& c, const std::string& room_id, uint64_t seq);

// One member's receipt as returned by receipts.get or an event.
struct ReceiptView {
  std::string room_id, user_id;
  uint64_t read_seq = 0, delivered_seq = 0, updated_at = 0;
};
// receipts.get: status Ok and every receipt, or nullopt (status in *status).
std::optional<std::vector<ReceiptView>> get_receipts(Client& c, const std::string& room_id,
                                                     uint16_t* status = nullptr);
std::optional<ReceiptView> receipt_of(const std::vector<ReceiptView>& list,
                                      const std::string& user_id);
// A receipts.updated event's payload.
std::optional<ReceiptView> as_receipt(const Incoming& event);

struct UnreadView {
  std::string room_id;
  uint64_t last_seq = 0, read_seq = 0, unread = 0;
};
// receipts.unread: every row, or nullopt when not Ok.
std::optional<std::vector<UnreadView>> get_unread(Client& c);
std::optional<UnreadView> unread_of(const std::vector<UnreadView>& rows,
                                    const std::string& room_id);

// ---- metrics (through receiptsprobe.metrics)
// The value of a metric series line ("parley_receipts_commits_total"), or
// -1 when absent.
double metric(Client& c, const std::string& series);

}  // namespace parley::test::receipts
