// Unit tests of the rooms plugin's pure rules (rooms_logic.h).
#include "rooms_logic.h"

#include <gtest/gtest.h>

#include "parley/util/keys.hpp"

namespace parley::rooms_plugin {
namespace {

const std::string kA = "0192f1c4-7d2a-7b3e-9f00-00000000000a";
const std::string kB = "0192f1c4-7d2a-7b3e-9f00-00000000000b";
const std::string kC = "0192f1c4-7d2a-7b3e-9f00-00000000000c";
const std::string kD = "0192f1c4-7d2a-7b3e-9f00-00000000000d";
const std::string kRoom = "0192f1c4-7d2a-7b3e-9f00-0000000000ff";

RoomRecord group(std::vector<Member> members) {
  RoomRecord r;
  r.room_id = kRoom;
  r.kind = RoomKind::Group;
  r.name = "team";
  r.created_at = 1000;
  r.members = std::move(members);
  return r;
}

uint16_t status_of(const Check& c) { return c ? c->status : 0; }

TEST(RoomsValidation, UuidMustBeCanonicalLowercase) {
  EXPECT_FALSE(validate_uuid(kA, "room_id"));
  EXPECT_EQ(status_of(validate_uuid("", "room_id")), PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(status_of(validate_uuid("0192F1C4-7D2A-7B3E-9F00-00000000000A", "room_id")),
            PARLEY_STATUS_INVALID_ARGUMENT);
  auto c = validate_uuid("nope", "peer_user_id");
  ASSERT_TRUE(c);
  EXPECT_NE(c->message.find("peer_user_id"), std::string::npos);
}

TEST(RoomsValidation, NameIsOneToHundredCharactersNotBytes) {
  EXPECT_EQ(status_of(validate_room_name("")), PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_FALSE(validate_room_name("a"));
  EXPECT_FALSE(validate_room_name(std::string(100, 'x')));
  EXPECT_EQ(status_of(validate_room_name(std::string(101, 'x'))), PARLEY_STATUS_INVALID_ARGUMENT);
  std::string hundred_euros;
  for (int i = 0; i < 100; ++i) hundred_euros += "\xE2\x82\xAC";  // 300 bytes
  EXPECT_FALSE(validate_room_name(hundred_euros));
  EXPECT_EQ(status_of(validate_room_name("bad\xC3")), PARLEY_STATUS_INVALID_ARGUMENT);
}

TEST(RoomsValidation, TextBoundsAreBytesAndUtf8IsChecked) {
  EXPECT_EQ(status_of(validate_text("", 10)), PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_FALSE(validate_text("x", 10));
  EXPECT_FALSE(validate_text(std::string(10, 'x'), 10));
  EXPECT_EQ(status_of(validate_text(std::string(11, 'x'), 10)), PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(status_of(validate_text("\xED\xA0\x80", 10)), PARLEY_STATUS_INVALID_ARGUMENT);  // surrogate
  EXPECT_EQ(status_of(validate_text("\xC0\xAF", 10)), PARLEY_STATUS_INVALID_ARGUMENT);      // overlong
}

TEST(RoomsValidation, ClientMsgIdIsOneToSixtyFourBytes) {
  EXPECT_EQ(status_of(validate_client_msg_id("")), PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_FALSE(validate_client_msg_id("c"));
  EXPECT_FALSE(validate_client_msg_id(std::string(64, 'c')));
  EXPECT_EQ(status_of(validate_client_msg_id(std::string(65, 'c'))), PARLEY_STATUS_INVALID_ARGUMENT);
}

TEST(RoomsPermissions, NonMembersAreDenied) {
  auto r = group({{kA, Role::Owner, 1}, {kB, Role::Member, 2}});
  EXPECT_FALSE(check_member(r, kA));
  EXPECT_EQ(status_of(check_member(r, kC)), PARLEY_STATUS_PERMISSION_DENIED);
  EXPECT_EQ(status_of(check_add_members(r, kC)), PARLEY_STATUS_PERMISSION_DENIED);
  EXPECT_EQ(status_of(check_remove_member(r, kC, kB)), PARLEY_STATUS_PERMISSION_DENIED);
  EXPECT_EQ(status_of(check_leave(r, kC)), PARLEY_STATUS_PERMISSION_DENIED);
}

TEST(RoomsPermissions, OnlyOwnerOrAdminManagesMembers) {
  auto r = group({{kA, Role::Owner, 1}, {kB, Role::Admin, 2}, {kC, Role::Member, 3},
                  {kD, Role::Member, 4}});
  EXPECT_FALSE(check_add_members(r, kA));
  EXPECT_FALSE(check_add_members(r, kB));
  EXPECT_EQ(status_of(check_add_members(r, kC)), PARLEY_STATUS_PERMISSION_DENIED);
  EXPECT_FALSE(check_remove_member(r, kA, kC));
  EXPECT_FALSE(check_remove_member(r, kB, kC));
  EXPECT_EQ(status_of(check_remove_member(r, kC, kD)), PARLEY_STATUS_PERMISSION_DENIED);
}

TEST(RoomsPermissions, TheOwnerIsNeverRemovedAndUnknownTargetsAreNotFound) {
  auto r = group({{kA, Role::Owner, 1}, {kB, Role::Admin, 2}});
  EXPECT_EQ(status_of(check_remove_member(r, kB, kA)), PARLEY_STATUS_PERMISSION_DENIED);
  EXPECT_EQ(status_of(check_remove_member(r, kA, kA)), PARLEY_STATUS_PERMISSION_DENIED);
  EXPECT_EQ(status_of(check_remove_member(r, kA, kC)), PARLEY_STATUS_NOT_FOUND);
}

TEST(RoomsPermissions, DirectRoomsHaveFixedMembership) {
  RoomRecord r = group({{kA, Role::Member, 1}, {kB, Role::Member, 1}});
  r.kind = RoomKind::Direct;
  EXPECT_FALSE(check_member(r, kA));
  EXPECT_EQ(status_of(check_add_members(r, kA)), PARLEY_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(status_of(check_remove_member(r, kA, kB)), PARLEY_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(status_of(check_leave(r, kA)), PARLEY_STATUS_FAILED_PRECONDITION);
}

TEST(RoomsMembers, AddSkipsExistingAndDuplicates) {
  auto r = group({{kA, Role::Owner, 1}});
  EXPECT_EQ(add_members(r, {kB, kA, kB, kC}, 50), 2u);
  ASSERT_EQ(r.members.size(), 3u);
  EXPECT_EQ(r.members[1].user_id, kB);
  EXPECT_EQ(r.members[1].role, Role::Member);
  EXPECT_EQ(r.members[1].joined_at, 50u);
  EXPECT_EQ(r.members[2].user_id, kC);
}

TEST(RoomsMembers, OwnerLeavingHandsOffToLongestStandingMember) {
  // kD joined earliest among the rest even though it is listed last.
  auto r = group({{kA, Role::Owner, 1}, {kB, Role::Member, 30}, {kC, Role::Admin, 20},
                  {kD, Role::Member, 10}});
  EXPECT_TRUE(remove_member_and_hand_off(r, kA));
  ASSERT_EQ(r.members.size(), 3u);
  EXPECT_EQ(find_member(r, kD)->role, Role::Owner);
  EXPECT_EQ(find_member(r, kC)->role, Role::Admin);
  EXPECT_EQ(find_member(r, kB)->role, Role::Member);
}

TEST(RoomsMembers, HandOffTieGoesToEarlierJoinOrder) {
  auto r = group({{kA, Role::Owner, 5}, {kB, Role::Member, 5}, {kC, Role::Member, 5}});
  remove_member_and_hand_off(r, kA);
  EXPECT_EQ(find_member(r, kB)->role, Role::Owner);
  EXPECT_EQ(find_member(r, kC)->role, Role::Member);
}

TEST(RoomsMembers, RemovingAPlainMemberKeepsTheOwner) {
  auto r = group({{kA, Role::Owner, 1}, {kB, Role::Member, 2}});
  EXPECT_TRUE(remove_member_and_hand_off(r, kB));
  EXPECT_FALSE(remove_member_and_hand_off(r, kC));
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].role, Role::Owner);
  EXPECT_TRUE(remove_member_and_hand_off(r, kA));
  EXPECT_TRUE(r.members.empty());
}

TEST(RoomsKeys, DirectPairIsUnordered) {
  EXPECT_EQ(direct_pair(kA, kB), direct_pair(kB, kA));
  EXPECT_NE(direct_pair(kA, kB), direct_pair(kA, kC));
  EXPECT_EQ(pair_key(kA, kB), pair_key(kB, kA));
}

TEST(RoomsKeys, MessageKeysSortBySeqAndStayInsideTheRoom) {
  const std::string other = "0192f1c4-7d2a-7b3e-9f00-000000000100";
  EXPECT_LT(message_key(kRoom, 9), message_key(kRoom, 10));
  EXPECT_LT(message_key(kRoom, 255), message_key(kRoom, 256));
  EXPECT_LT(message_key(kRoom, UINT64_MAX), message_key(other, 0));
  const std::string key = message_key(kRoom, 258);
  keys::KeyReader r(key);
  EXPECT_EQ(r.u8(), 'M');
  EXPECT_EQ(r.raw(36), kRoom);
  EXPECT_EQ(r.u64(), 258u);
}

TEST(RoomsKeys, UserRoomKeyRoundTrips) {
  std::string k = user_room_key(kA, kRoom);
  EXPECT_EQ(k.rfind(user_rooms_prefix(kA), 0), 0u);
  EXPECT_EQ(room_of_user_room_key(k), kRoom);
  EXPECT_EQ(room_of_user_room_key("U123"), "");
}

TEST(RoomsKeys, RoomRecordAndSeqStateShareTheRoomPrefix) {
  EXPECT_EQ(room_record_key(kRoom).rfind(room_prefix(kRoom), 0), 0u);
  EXPECT_EQ(room_seq_key(kRoom).rfind(room_prefix(kRoom), 0), 0u);
  EXPECT_NE(room_record_key(kRoom), room_seq_key(kRoom));
}

TEST(RoomsKeys, DedupeKeyDependsOnSenderRoomAndClientId) {
  EXPECT_NE(dedupe_key(kA, kRoom, "x"), dedupe_key(kB, kRoom, "x"));
  EXPECT_NE(dedupe_key(kA, kRoom, "x"), dedupe_key(kA, kC, "x"));
  EXPECT_NE(dedupe_key(kA, kRoom, "x"), dedupe_key(kA, kRoom, "y"));
  EXPECT_EQ(dedupe_key(kA, kRoom, "x"), dedupe_key(kA, kRoom, "x"));
}

TEST(RoomsRecords, RoomRecordRoundTrips) {
  auto r = group({{kA, Role::Owner, 1}, {kB, Role::Admin, 2}, {kC, Role::Member, 3}});
  auto back = decode_room_record(encode_room_record(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->room_id, kRoom);
  EXPECT_EQ(back->kind, RoomKind::Group);
  EXPECT_EQ(back->name, "team");
  EXPECT_EQ(back->created_at, 1000u);
  ASSERT_EQ(back->members.size(), 3u);
  EXPECT_EQ(back->members[1].user_id, kB);
  EXPECT_EQ(back->members[1].role, Role::Admin);
  EXPECT_EQ(back->members[2].joined_at, 3u);
  EXPECT_FALSE(decode_room_record("garbage"));
}

TEST(RoomsRecords, SeqStateRoundTrips) {
  auto s = decode_seq_state(encode_seq_state({123456789012ull, 42}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->last_seq, 123456789012ull);
  EXPECT_EQ(s->last_activity, 42u);
  EXPECT_FALSE(decode_seq_state("short"));
}

TEST(RoomsRecords, MessageEncodesOnceAndVerifies) {
  std::string text("a\0b", 3);  // an embedded NUL survives
  std::string bytes = encode_message({"mid", kRoom, kA, text, "c1", 7, 99});
  const auto* m = verify_message(bytes);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->seq(), 7u);
  EXPECT_EQ(m->created_at(), 99u);
  EXPECT_EQ(m->text()->str(), text);
  EXPECT_EQ(m->client_msg_id()->str(), "c1");
  EXPECT_EQ(verify_message("not a message"), nullptr);
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(copy_message(fbb, *m), parley::rooms::RoomIdentifier());
  std::string copy(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  const auto* m2 = verify_message(copy);
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(m2->sender_user_id()->str(), kA);
  EXPECT_EQ(m2->text()->str(), text);
}

// A fake ordered scan over seqs 1..n, to check ranges and pages end to end.
std::vector<uint64_t> run_scan(const ScanRange& r, uint64_t n) {
  std::vector<uint64_t> out;
  if (r.empty) return out;
  std::vector<uint64_t> all;
  for (uint64_t s = 1; s <= n; ++s) {
    std::string k = message_key(kRoom, s);
    if (k >= r.start && (r.end.empty() || k < r.end)) all.push_back(s);
  }
  if (r.reverse) std::reverse(all.begin(), all.end());
  for (uint64_t s : all) {
    if (out.size() == r.fetch) break;
    out.push_back(s);
  }
  return out;
}

std::vector<uint64_t> page(HistoryQuery q, uint64_t n, bool* more) {
  ScanRange r = history_range(kRoom, q);
  return history_page(r, run_scan(r, n), more);
}

std::vector<uint64_t> seqs(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t s = from; s <= to; ++s) v.push_back(s);
  return v;
}

TEST(RoomsHistory, LimitDefaultsToFiftyAndIsCappedAtTwoHundred) {
  EXPECT_EQ(effective_limit(0), 50u);
  EXPECT_EQ(effective_limit(1), 1u);
  EXPECT_EQ(effective_limit(200), 200u);
  EXPECT_EQ(effective_limit(65535), 200u);
}

TEST(RoomsHistory, LatestReturnsTheLastLimitAscending) {
  bool more = false;
  EXPECT_EQ(page({0, 0, 3}, 10, &more), seqs(8, 10));
  EXPECT_TRUE(more);
  EXPECT_EQ(page({0, 0, 10}, 10, &more), seqs(1, 10));
  EXPECT_FALSE(more);
  EXPECT_EQ(page({0, 0, 0}, 0, &more), seqs(1, 0));
  EXPECT_FALSE(more);
}

TEST(RoomsHistory, AfterSeqReturnsTheFirstLimitAfterIt) {
  bool more = false;
  EXPECT_EQ(page({0, 4, 3}, 10, &more), seqs(5, 7));
  EXPECT_TRUE(more);
  EXPECT_EQ(page({0, 7, 3}, 10, &more), seqs(8, 10));
  EXPECT_FALSE(more);
  EXPECT_EQ(page({0, 10, 3}, 10, &more), seqs(1, 0));
  EXPECT_FALSE(more);
  EXPECT_EQ(page({0, UINT64_MAX, 3}, 10, &more), seqs(1, 0));
}

TEST(RoomsHistory, BeforeSeqReturnsTheLastLimitBeforeIt) {
  bool more = false;
  EXPECT_EQ(page({8, 0, 3}, 10, &more), seqs(5, 7));
  EXPECT_TRUE(more);
  EXPECT_EQ(page({4, 0, 3}, 10, &more), seqs(1, 3));
  EXPECT_FALSE(more);
  EXPECT_EQ(page({1, 0, 3}, 10, &more), seqs(1, 0));
  EXPECT_FALSE(more);
  EXPECT_EQ(page({UINT64_MAX, 0, 3}, 10, &more), seqs(8, 10));
}

TEST(RoomsHistory, BothCursorsReturnTheFirstLimitBetween) {
  bool more = false;
  EXPECT_EQ(page({9, 2, 3}, 10, &more), seqs(3, 5));
  EXPECT_TRUE(more);
  EXPECT_EQ(page({6, 2, 3}, 10, &more), seqs(3, 5));
  EXPECT_FALSE(more);
  EXPECT_EQ(page({3, 2, 3}, 10, &more), seqs(1, 0));
}

TEST(RoomsHistory, ScansAreBoundedByLimitPlusOne) {
  ScanRange r = history_range(kRoom, {0, 0, 500});
  EXPECT_EQ(r.limit, 200u);
  EXPECT_EQ(r.fetch, 201u);
}

}  // namespace
}  // namespace parley::rooms_plugin
