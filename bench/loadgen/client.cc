#include "client.h"

namespace parley::loadgen {

void Client::start(const sockaddr_in& addr, std::function<void(Client&, bool)> done) {
  started_ = std::move(done);
  conn_.connect(addr);
}

uint64_t Client::call(std::string_view method, std::span<const uint8_t> payload, Reply reply) {
  uint64_t id = next_id_++;
  pending_.emplace(id, std::move(reply));
  conn_.send(id, method, payload);
  return id;
}

void Client::on_open(Conn&) {
  static const std::vector<uint8_t> hello = hello_payload();
  call("sys.hello", hello, [](Client& self, const parley::Envelope& e) {
    auto done = std::move(self.started_);
    self.started_ = nullptr;
    if (done) done(self, e.status() == parley::Status::Ok);
  });
}

void Client::on_envelope(Conn&, const parley::Envelope& e) {
  if (e.kind() == parley::Kind::Response) {
    auto it = pending_.find(e.id());
    if (it == pending_.end()) return;
    Reply r = std::move(it->second);
    pending_.erase(it);
    r(*this, e);
    return;
  }
  if (on_event) on_event(*this, e);
}

void Client::on_closed(Conn&, const char* why) {
  pending_.clear();
  if (started_) {
    auto done = std::move(started_);
    started_ = nullptr;
    done(*this, false);
  }
  if (!expect_close && on_gone) on_gone(*this, why);
}

}  // namespace parley::loadgen
