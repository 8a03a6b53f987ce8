// Network faults (issue 11, item 6): parleyd in one network namespace,
// clients in another, the veth link between them degraded by random packet
// drops (nftables numgen) or a bandwidth limit (tc tbf). Senders keep
// sending into a room, retrying with the same client_msg_id whenever a
// request times out; a receiver loses its connection several times (its
// packets blackholed, then either restored or abandoned and reconnected)
// and catches up through rooms.history. Asserted: every acknowledged
// message is stored exactly once at its acknowledged seq, seqs are gap-free,
// each sender's messages keep their order, and the receiver sees every
// message exactly once, in seq order. Skipped (with the reason) where
// network namespaces cannot be created (not root, no CAP_NET_ADMIN, no nft).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "netns.h"
#include "rooms_test_client.h"

namespace parley::test::netfault {
namespace {

namespace afb = parley::auth;
namespace rfb = parley::rooms;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kSenders = 3;
// A request unanswered this long is given up: the connection is dropped and
// the request resent on a new one (a client's retry).
constexpr int kCallMs = 3000;
// How long one outage of the receiver's connection lasts.
constexpr int kOutageMs = 1500;

long ms_since(Clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// connect + sys.hello + auth.resume, without gtest failures: under faults a
// single attempt may time out, and the caller retries.
std::unique_ptr<Client> open_session(int port, const std::string& token, std::string* why) {
  ClientOptions options;
  options.timeout_ms = kCallMs;
  auto c = Client::connect(NetnsPair::kServerAddress, port, options, why);
  if (!c) return nullptr;
  auto hello = c->read_response(c->send("sys.hello", hello_payload(1, "netfault")), kCallMs);
  if (!hello || !hello->ok()) {
    if (why) *why = "sys.hello: " + (hello ? hello->error : "no answer");
    return nullptr;
  }
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateResumeDirect(fbb, token.c_str()), "PAUT");
  auto resumed = c->read_response(c->send("auth.resume", fbb), kCallMs);
  if (!resumed || !resumed->ok()) {
    if (why) *why = "auth.resume: " + (resumed ? resumed->error : "no answer");
    return nullptr;
  }
  return c;
}

// Keeps trying until `deadline`; counts the attempts that failed.
std::unique_ptr<Client> open_session_retrying(int port, const std::string& token,
                                              Clock::time_point deadline, int* failed,
                                              std::string* why) {
  while (Clock::now() < deadline) {
    if (auto c = open_session(port, token, why)) return c;
    ++*failed;
    std::this_thread::sleep_for(100ms);
  }
  return nullptr;
}

int local_port(const Client& c) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(c.fd(), reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
}

// ------------------------------------------------------------- senders ---

struct Sent {
  std::string client_msg_id;
  uint64_t seq = 0;
  std::string message_id;
  bool acked = false;
};

struct SenderResult {
  // The client-side port of the current connection (-1 between sessions),
  // so that the test can cut this sender off.
  std::atomic<int> port{-1};
  std::atomic<int> remaining{0};  // messages not acknowledged yet
  std::vector<Sent> sent;
  int retries = 0;          // requests sent again after a timeout or a lost connection
  int reconnects = 0;       // sessions opened after the first
  int failed_connects = 0;  // connection attempts that did not get a session
  std::vector<std::string> errors;
};

struct SenderPlan {
  int port = -1;
  int index = 0;
  std::string token, room;
  int messages = 0;
  size_t text_bytes = 0;
  int pause_ms = 0;  // between messages, so that sending spans the outages
  Clock::time_point deadline;
  const std::atomic<bool>* abort = nullptr;  // set when the test gives up early
};

void run_sender(const SenderPlan& plan, SenderResult& out, std::atomic<int>& acked_total) {
  std::unique_ptr<Client> c;
  bool first_session = true;
  out.remaining = plan.messages;
  for (int i = 0; i < plan.messages && !plan.abort->load(); ++i) {
    Sent s;
    s.client_msg_id = "nf" + std::to_string(plan.index) + "-" + std::to_string(i);
    std::string text = s.client_msg_id + ":" + std::string(plan.text_bytes, 'a' + plan.index);
    auto payload = rooms::send(plan.room, s.client_msg_id, text);
    int attempts = 0;
    while (!s.acked && Clock::now() < plan.deadline && !plan.abort->load()) {
      if (!c) {
        std::string why;
        c = open_session_retrying(plan.port, plan.token, plan.deadline, &out.failed_connects, &why);
        if (!c) {
          out.errors.push_back("no session before the deadline: " + why);
          break;
        }
        if (!first_session) ++out.reconnects;
        first_session = false;
        out.port = local_port(*c);
      }
      if (attempts++ > 0) ++out.retries;
      auto r = c->read_response(c->send("rooms.send", payload), kCallMs);
      if (r && r->ok()) {
        const rfb::Message* m = rooms::as_message(*r);
        if (!m || !m->message_id()) {
          out.errors.push_back("rooms.send answered without a Message");
          break;
        }
        s.seq = m->seq();
        s.message_id = m->message_id()->str();
        s.acked = true;
        acked_total.fetch_add(1);
        out.remaining.fetch_sub(1);
      } else {
        if (r)
          out.errors.push_back("rooms.send refused: " + std::to_string(r->status) + " " + r->error);
        out.port = -1;
        c.reset();  // timed out or closed: a new connection, the same client_msg_id
      }
    }
    // Other members' messages arrive here as events; this client has no use
    // for them.
    if (c) c->drain_events(0);
    out.sent.push_back(s);
    if (!s.acked) {
      out.errors.push_back(s.client_msg_id + " never acknowledged");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(plan.pause_ms));
  }
  out.port = -1;
}

// Stops and joins the sender threads however the test ends (an ASSERT
// returning early must not destroy joinable threads).
struct JoinOnExit {
  std::vector<std::thread>& threads;
  std::atomic<bool>& abort;
  ~JoinOnExit() {
    abort = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
};

// ------------------------------------------------------------ receiver ---

struct Got {
  uint64_t seq;
  std::string message_id, client_msg_id;
};

// Accepts rooms.message events live and rooms.history pages after a
// reconnect; every accepted message must be the next seq.
class Receiver {
 public:
  Receiver(int port, std::string token, std::string room, std::unique_ptr<Client> c)
      : port_(port), token_(std::move(token)), room_(std::move(room)), c_(std::move(c)) {}

  // Reads events for up to `ms`; reconnects if the connection was lost.
  void pump(int ms, Clock::time_point deadline) {
    auto start = Clock::now();
    while (c_ && ms_since(start) < ms) {
      auto ev = c_->next_event("rooms.message", 50);
      if (ev) {
        if (const rfb::Message* m = rooms::as_message(*ev)) accept(*m, true);
        continue;
      }
      if (c_->closed()) {
        ++unexpected_closes;
        reconnect_and_catch_up(deadline);
      }
    }
  }

  // Abandons the current connection (as a client whose network died does)
  // and catches up on a new one.
  void reconnect_and_catch_up(Clock::time_point deadline) {
    c_.reset();
    for (;;) {
      std::string why;
      c_ = open_session_retrying(port_, token_, deadline, &failed_connects, &why);
      if (!c_) {
        errors.push_back("receiver: no session before the deadline: " + why);
        return;
      }
      ++reconnects;
      if (catch_up()) break;
      c_.reset();  // history timed out under the faults: again on a new connection
    }
  }

  int local_port() const { return c_ ? netfault::local_port(*c_) : -1; }
  void drop_connection() {
    if (c_) c_->close();
  }
  uint64_t last_seq() const { return last_; }
  const std::vector<Got>& log() const { return log_; }

  int live = 0, via_history = 0, overlaps = 0, reconnects = 0, failed_connects = 0,
      unexpected_closes = 0;
  std::vector<std::string> errors;

 private:
  bool catch_up() {
    for (;;) {
      auto r = c_->read_response(c_->send("rooms.history", rooms::history(room_, 0, last_, 200)),
                                 kCallMs);
      if (!r) return false;
      if (!r->ok()) {
        errors.push_back("rooms.history refused: " + r->error);
        return false;
      }
      const rfb::MessageList* list = rooms::as_message_list(*r);
      if (!list) {
        errors.push_back("rooms.history answered without a MessageList");
        return false;
      }
      if (list->messages())
        for (const rfb::Message* m : *list->messages()) accept(*m, false);
      if (!list->has_more() || !list->messages() || list->messages()->size() == 0) break;
    }
    // Events queued while catching up may repeat what history returned.
    overlap_until_ = last_;
    return true;
  }

  void accept(const rfb::Message& m, bool is_live) {
    uint64_t seq = m.seq();
    if (seq <= last_) {
      if (is_live && seq <= overlap_until_)
        ++overlaps;
      else
        errors.push_back("receiver: seq " + std::to_string(seq) + " again after " +
                         std::to_string(last_));
      return;
    }
    if (seq != last_ + 1)
      errors.push_back("receiver: gap, seq " + std::to_string(seq) + " after " +
                       std::to_string(last_));
    last_ = seq;
    log_.push_back({seq, m.message_id() ? m.message_id()->str() : "",
                    m.client_msg_id() ? m.client_msg_id()->str() : ""});
    ++(is_live ? live : via_history);
  }

  int port_;
  std::string token_, room_;
  std::unique_ptr<Client> c_;
  uint64_t last_ = 0, overlap_until_ = 0;
  std::vector<Got> log_;
};

// Every stored message of the room (backward pages from the end).
std::map<uint64_t, Got> read_all(Client& c, const std::string& room, std::string* error) {
  std::map<uint64_t, Got> out;
  uint64_t before = 0;
  for (;;) {
    auto r = c.read_response(c.send("rooms.history", rooms::history(room, before, 0, 200)), 10000);
    const rfb::MessageList* list = r && r->ok() ? rooms::as_message_list(*r) : nullptr;
    if (!list) {
      *error = "rooms.history failed: " + (r ? r->error : c.last_error());
      return out;
    }
    if (!list->messages() || list->messages()->size() == 0) break;
    for (const rfb::Message* m : *list->messages())
      if (!out.emplace(m->seq(), Got{m->seq(), m->message_id()->str(), m->client_msg_id()->str()})
               .second)
        *error = "seq " + std::to_string(m->seq()) + " returned twice";
    before = list->messages()->Get(0)->seq();
    if (!list->has_more()) break;
  }
  return out;
}

// ------------------------------------------------------------ scenario ---

struct Scenario {
  const char* name;
  int drop_percent = 0;        // nft numgen random drops, each direction
  const char* rate = nullptr;  // tc tbf rate on both ends
  int messages_per_sender = 0;
  size_t text_bytes = 0;
  int pause_ms = 0;
};

void run_scenario(const Scenario& sc) {
  NetnsPair net;
  std::string why;
  if (geteuid() != 0)
    GTEST_SKIP() << "needs root for network namespaces (euid " << geteuid() << ")";
  if (find_tool("nft").empty() || find_tool("tc").empty() || find_tool("ip").empty())
    GTEST_SKIP() << "needs ip (iproute2), tc and nft (package nftables; scripts/deps.sh)";
  if (!net.create(&why)) GTEST_SKIP() << "cannot create network namespaces: " << why;

  TempDir data("parley-netfault");
  ServerOptions options = rooms::server_options();
  options.data_dir = data.path();
  options.listeners_yaml = std::string("- {name: main, address: ") + NetnsPair::kServerAddress +
                           ", port: 0, tls: {dev: true, cert: \"" + data.path() +
                           "/dev-cert.pem\", key: \"" + data.path() + "/dev-key.pem\"}}";
  // The server is forked from this thread while it is in the server
  // namespace; everything after enter_client() (sockets, sender threads)
  // lives in the client namespace.
  ASSERT_TRUE(net.enter_server(&why)) << why;
  std::string error;
  auto server = ServerProcess::start(options, &error);
  ASSERT_TRUE(net.enter_client(&why)) << why;
  ASSERT_TRUE(server) << error;
  const int port = server->port();

  // Users and the room, before any fault.
  struct Member {
    rooms::User user;
    std::unique_ptr<Client> c;
  };
  std::vector<Member> members(kSenders + 1);  // [0] receives
  for (size_t i = 0; i < members.size(); ++i) {
    members[i].c = Client::connect(NetnsPair::kServerAddress, port, {}, &error);
    ASSERT_TRUE(members[i].c) << error;
    members[i].c->hello("netfault");
    members[i].user = rooms::register_user(*members[i].c, "nf" + std::to_string(i));
    ASSERT_FALSE(members[i].user.token.empty());
  }
  std::vector<std::string> ids;
  for (size_t i = 1; i < members.size(); ++i) ids.push_back(members[i].user.id);
  Incoming created = members[0].c->call("rooms.create", rooms::create("netfault", ids));
  ASSERT_TRUE(created.ok()) << created.error;
  const std::string room = rooms::as_room(created)->room_id()->str();
  for (size_t i = 1; i < members.size(); ++i) members[i].c.reset();  // senders open their own

  // The faults. A kernel without nft numgen or sch_tbf cannot run this test: say so.
  if (sc.drop_percent > 0 && !net.set_random_drops(sc.drop_percent, &why))
    GTEST_SKIP() << "cannot apply random drops with nft: " << why;
  if (sc.rate && !net.set_rate_limit(sc.rate, "32kbit", "400ms", &why))
    GTEST_SKIP() << "cannot apply a tc tbf rate limit: " << why;

  const auto start = Clock::now();
  const auto deadline = start + 45s;
  std::atomic<int> acked_total{0};
  std::vector<SenderResult> results(kSenders);
  std::vector<std::thread> senders;
  std::atomic<bool> abort{false};
  JoinOnExit join_senders{senders, abort};
  for (int i = 0; i < kSenders; ++i) {
    SenderPlan plan{port,
                    i + 1,
                    members[i + 1].user.token,
                    room,
                    sc.messages_per_sender,
                    sc.text_bytes,
                    sc.pause_ms,
                    deadline,
                    &abort};
    senders.emplace_back(
        [plan, &results, &acked_total, i] { run_sender(plan, results[i], acked_total); });
  }

  // The receiver: three outages of its connection while the senders go on.
  // The first is restored (TCP recovers on the same connection), the other
  // two are abandoned: a new connection catches up through rooms.history.
  // The second also cuts sender 1 off: its request in flight times out and
  // is resent with the same client_msg_id on a new connection.
  Receiver receiver(port, members[0].user.token, room, std::move(members[0].c));
  const int total = kSenders * sc.messages_per_sender;
  int outages = 0, acked_during_outages = 0;
  bool cut_sender = false;
  for (int outage = 0; outage < 3; ++outage) {
    receiver.pump(1500, deadline);
    ASSERT_GT(receiver.local_port(), 0) << "the receiver has no connection";
    ASSERT_TRUE(net.blackhole_port(receiver.local_port(), &why)) << why;
    if (outage == 1) {
      int sender_port = results[0].port.load();
      if (sender_port > 0 && results[0].remaining.load() > 1) {
        ASSERT_TRUE(net.blackhole_port(sender_port, &why)) << why;
        cut_sender = true;
      }
    }
    const int acked_before = acked_total.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(kOutageMs));
    acked_during_outages += acked_total.load() - acked_before;
    ++outages;
    if (outage == 0) {
      ASSERT_TRUE(net.clear_blackholes(&why)) << why;
    } else {
      receiver.drop_connection();
      if (outage == 1) {
        // Long enough for sender 1's request to time out on the dead link.
        std::this_thread::sleep_for(std::chrono::milliseconds(kCallMs));
      }
      ASSERT_TRUE(net.clear_blackholes(&why)) << why;
      receiver.reconnect_and_catch_up(deadline);
    }
  }
  while (Clock::now() < deadline &&
         (acked_total.load() < total || receiver.last_seq() < static_cast<uint64_t>(total)))
    receiver.pump(200, deadline);
  for (auto& t : senders) t.join();
  const long took = ms_since(start);
  const long dropped = net.random_drops_counted();
  const long overlimits = sc.rate ? net.rate_limit_overlimits() : 0;
  ASSERT_TRUE(net.clear_faults(&why)) << why;

  // The truth: what the server stored.
  auto reader = open_session(port, members[1].user.token, &why);
  ASSERT_TRUE(reader) << why;
  auto stored = read_all(*reader, room, &error);
  EXPECT_TRUE(error.empty()) << error;

  int acked = 0, retries = 0, reconnects = 0, failed_connects = 0, lost = 0;
  for (const auto& r : results) {
    for (const auto& e : r.errors) ADD_FAILURE() << "sender: " << e;
    retries += r.retries;
    reconnects += r.reconnects;
    failed_connects += r.failed_connects;
    uint64_t previous_seq = 0;
    for (const auto& s : r.sent) {
      if (!s.acked) continue;
      ++acked;
      auto it = stored.find(s.seq);
      if (it == stored.end() || it->second.message_id != s.message_id ||
          it->second.client_msg_id != s.client_msg_id) {
        ++lost;
        ADD_FAILURE() << s.client_msg_id << " acknowledged at seq " << s.seq
                      << " is not stored there";
      }
      // A sender's messages keep the order they were sent in.
      EXPECT_GT(s.seq, previous_seq) << s.client_msg_id;
      previous_seq = s.seq;
    }
  }
  EXPECT_EQ(acked, total) << "not every message was acknowledged before the deadline";
  // Stored: seqs 1..N without a gap, every client_msg_id exactly once.
  std::set<std::string> distinct;
  uint64_t expect_seq = 1;
  int duplicates = 0;
  for (const auto& [seq, m] : stored) {
    EXPECT_EQ(seq, expect_seq++) << "gap in the stored seqs";
    if (!distinct.insert(m.client_msg_id).second) ++duplicates;
  }
  EXPECT_EQ(stored.size(), static_cast<size_t>(total));
  EXPECT_EQ(duplicates, 0) << "a retried send was stored twice";
  // The receiver saw exactly what was stored, in order.
  for (const auto& e : receiver.errors) ADD_FAILURE() << e;
  EXPECT_EQ(receiver.log().size(), stored.size());
  for (const auto& got : receiver.log()) {
    auto it = stored.find(got.seq);
    if (it == stored.end() || it->second.message_id != got.message_id) {
      ADD_FAILURE() << "receiver got seq " << got.seq << " which is not stored as such";
      break;
    }
  }
  EXPECT_GE(receiver.reconnects, 2);
  EXPECT_GT(receiver.via_history, 0) << "the outages never needed a catch-up";
  EXPECT_GT(acked_during_outages, 0) << "the senders were idle during the outages";
  if (cut_sender) {
    EXPECT_GT(retries, 0) << "sender 1 was cut off but never resent";
  }
  if (sc.drop_percent > 0) {
    EXPECT_GT(dropped, 0) << "the drop rules dropped nothing";
  }
  if (sc.rate) {
    EXPECT_GT(overlimits, 0) << "the rate limit never held a packet back";
  }

  std::printf(
      "netfault[%s]: %d messages acked of %d, stored %zu, lost %d, duplicates %d; sender retries "
      "%d (sender 1 cut off: %s), sender reconnects %d (failed connects %d); receiver: %zu "
      "delivered in order (%d live, "
      "%d via history, %d overlapping events skipped), outages %d (%d acked meanwhile), "
      "reconnects %d (failed connects %d, unexpected closes %d); packets dropped by nft %ld, "
      "tbf overlimits %ld; took %ld ms\n",
      sc.name, acked, total, stored.size(), lost, duplicates, retries, cut_sender ? "yes" : "no",
      reconnects, failed_connects, receiver.log().size(), receiver.live, receiver.via_history,
      receiver.overlaps, outages, acked_during_outages, receiver.reconnects,
      receiver.failed_connects, receiver.unexpected_closes, dropped, overlimits, took);
  reader.reset();
  server.reset();  // stopped before its namespace goes away
}

TEST(NetFault, RandomDropsAndOutagesLoseNothingAndTheReceiverCatchesUpInOrder) {
  run_scenario({"drops 10%", 10, nullptr, 60, 200, 150});
}

TEST(NetFault, BandwidthLimitAndOutagesLoseNothingAndTheReceiverCatchesUpInOrder) {
  run_scenario({"tbf 1mbit", 0, "1mbit", 60, 1000, 130});
}

TEST(NetFault, BandwidthLimitWithDropsAndOutagesLoseNothingAndTheReceiverCatchesUpInOrder) {
  run_scenario({"tbf 1mbit + drops 10%", 10, "1mbit", 60, 1000, 130});
}

}  // namespace
}  // namespace parley::test::netfault
