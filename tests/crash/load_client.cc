#include "load_client.h"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>

#include "parley/auth_generated.h"
#include "rooms_test_client.h"

namespace parley::test::crash {

namespace afb = parley::auth;
using Clock = std::chrono::steady_clock;

std::string text_for(const std::string& client_msg_id) {
  size_t n = 10 + std::hash<std::string>{}(client_msg_id) % 200;
  std::string t = "msg " + client_msg_id + " ";
  while (t.size() < n) t += static_cast<char>('a' + t.size() % 26);
  t.resize(n);
  return t;
}

namespace {

// Connect + sys.hello + auth.resume without gtest assertions: the server may
// be killed at any moment, and then failing here is expected.
std::unique_ptr<Client> connect_and_resume(const LoadPlan& plan) {
  auto c = Client::connect("127.0.0.1", plan.port);
  if (!c) return nullptr;
  c->send("sys.hello", hello_payload(1, "crash-test"));
  uint64_t hello_id = 1;
  auto welcome = c->read_response(hello_id, 5000);
  if (!welcome || !welcome->ok()) return nullptr;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateResumeDirect(fbb, plan.token.c_str()), "PAUT");
  uint64_t resume_id = c->send("auth.resume", fbb);
  auto resumed = c->read_response(resume_id, 5000);
  if (!resumed || !resumed->ok()) return nullptr;
  return c;
}

}  // namespace

void run_load(const LoadPlan& plan, std::vector<SentMessage>& ledger, LoadSignals& signals,
              LoadStats& stats) {
  auto error = [&](const std::string& what) {
    if (stats.errors.size() < 10) stats.errors.push_back(plan.id_prefix + ": " + what);
  };
  std::unique_ptr<Client> c = connect_and_resume(plan);
  if (!c) return;
  stats.connected = true;
  signals.connected.fetch_add(1);

  // Retries first, in the order they were first sent; then new messages.
  std::deque<size_t> to_send;
  for (size_t i = 0; i < ledger.size(); ++i)
    if (!ledger[i].acked) to_send.push_back(i);
  const size_t first_new = ledger.size();  // indices below it are retries
  std::map<uint64_t, size_t> pending;  // request id -> ledger index
  bool signalled_ack = false;
  const auto give_up = Clock::now() + std::chrono::seconds(30);

  while (!c->closed() && Clock::now() < give_up) {
    while (static_cast<int>(pending.size()) < plan.window) {
      if (to_send.empty()) {
        if (stats.new_sent >= plan.max_new) break;
        SentMessage m;
        m.client_msg_id = plan.id_prefix + std::to_string(ledger.size());
        m.room_id = plan.rooms[ledger.size() % plan.rooms.size()];
        m.text = text_for(m.client_msg_id);
        ledger.push_back(std::move(m));
        to_send.push_back(ledger.size() - 1);
        ++stats.new_sent;
      }
      size_t index = to_send.front();
      to_send.pop_front();
      const SentMessage& m = ledger[index];
      if (index < first_new) ++stats.retries_sent;
      pending[c->send("rooms.send", rooms::send(m.room_id, m.client_msg_id, m.text))] = index;
    }
    auto in = c->read(1000);
    if (!in) continue;  // closed (the loop ends) or quiet (wait on)
    if (in->kind != parley::Kind::Response) continue;  // rooms.message events
    auto p = pending.find(in->id);
    if (p == pending.end()) {
      error("a Response to unknown request id " + std::to_string(in->id));
      continue;
    }
    SentMessage& m = ledger[p->second];
    const bool was_retry = p->second < first_new;
    pending.erase(p);
    if (!in->ok()) {
      error("rooms.send " + m.client_msg_id + " answered " + std::to_string(in->status) + " " +
            in->error);
      continue;
    }
    const auto* msg = rooms::as_message(*in);
    if (!msg || !msg->client_msg_id() || !msg->message_id() || !msg->text()) {
      error("rooms.send " + m.client_msg_id + " answered without a Message");
      continue;
    }
    if (msg->client_msg_id()->str() != m.client_msg_id || msg->text()->str() != m.text)
      error("rooms.send " + m.client_msg_id + " answered with another message (" +
            msg->client_msg_id()->str() + ")");
    m.acked = true;
    m.seq = msg->seq();
    m.message_id = msg->message_id()->str();
    ++(was_retry ? stats.retries_acked : stats.new_acked);
    if (!signalled_ack) {
      signalled_ack = true;
      signals.acked_once.fetch_add(1);
    }
  }
  if (!c->closed()) error("the connection was still open after 30 s");
  stats.in_flight_at_close = pending.size();
}

}  // namespace parley::test::crash
