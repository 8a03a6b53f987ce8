#include "ws_peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace parley::test::ws {
namespace {

using Clock = std::chrono::steady_clock;

int remaining(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

std::string hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out;
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<uint8_t>(v(s[i]) * 16 + v(s[i + 1])));
  return out;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

// The value of "key" in a flat JSON object line: a string (unescaped) or a
// bare token (number, true/false).
std::string field(const std::string& line, const std::string& key) {
  std::string k = "\"" + key + "\":";
  size_t at = line.find(k);
  if (at == std::string::npos) return "";
  at += k.size();
  if (at < line.size() && line[at] == '"') {
    std::string v;
    for (size_t i = at + 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        v += line[++i];
        continue;
      }
      if (line[i] == '"') break;
      v += line[i];
    }
    return v;
  }
  size_t end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

std::string peer_dir() { return PARLEY_WS_PEER_DIR; }

}  // namespace

std::unique_ptr<WsPeer> WsPeer::spawn(std::string* error) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe failed";
    return nullptr;
  }
  std::string script = peer_dir() + "/ws_peer.js";
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    execlp("node", "node", script.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "exec node failed: %s\n", std::strerror(errno));
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    *error = "fork failed";
    return nullptr;
  }
  std::unique_ptr<WsPeer> p(new WsPeer());
  p->pid_ = pid;
  p->in_fd_ = in[1];
  p->out_fd_ = out[0];
  return p;
}

WsPeer::~WsPeer() {
  if (in_fd_ >= 0) ::close(in_fd_);  // ws_peer.js exits at EOF
  if (pid_ > 0) {
    int st = 0;
    for (int i = 0; i < 50 && waitpid(pid_, &st, WNOHANG) == 0; ++i) usleep(20000);
    if (waitpid(pid_, &st, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

void WsPeer::command(const std::string& json) {
  std::string line = json + "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(in_fd_, p, left);
    if (n <= 0) {
      ADD_FAILURE() << "cannot write to ws_peer.js";
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

std::optional<PeerEvent> WsPeer::read_line(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      PeerEvent e;
      e.line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      e.ev = field(e.line, "ev");
      e.protocol = field(e.line, "protocol");
      e.reason = field(e.line, "reason");
      e.binary = field(e.line, "binary") == "true";
      std::string code = field(e.line, e.ev == "unexpected" ? "status" : "code");
      if (!code.empty()) e.code = std::atoi(code.c_str());
      if (e.ev == "msg") e.bytes = unhex(field(e.line, "hex"));
      return e;
    }
    pollfd pfd{out_fd_, POLLIN, 0};
    int n = poll(&pfd, 1, remaining(deadline));
    if (n <= 0) return std::nullopt;
    char tmp[65536];
    ssize_t r = read(out_fd_, tmp, sizeof tmp);
    if (r <= 0) return std::nullopt;
    buf_.append(tmp, static_cast<size_t>(r));
  }
}

std::optional<PeerEvent> WsPeer::next(int timeout_ms) {
  if (!queue_.empty()) {
    PeerEvent e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }
  return read_line(timeout_ms);
}

PeerEvent WsPeer::connect(const std::string& url, const std::string& origin,
                          const std::vector<std::string>& protocols) {
  std::string protos = "[";
  for (size_t i = 0; i < protocols.size(); ++i) protos += (i ? "," : "") + json_string(protocols[i]);
  protos += "]";
  command("{\"op\":\"connect\",\"url\":" + json_string(url) + ",\"protocols\":" + protos +
          (origin.empty() ? "" : ",\"origin\":" + json_string(origin)) + "}");
  for (;;) {
    auto e = read_line(10000);
    if (!e) {
      PeerEvent t;
      t.ev = "timeout";
      return t;
    }
    if (e->ev == "open" || e->ev == "unexpected" || e->ev == "close" || e->ev == "error") return *e;
    queue_.push_back(*e);
  }
}

void WsPeer::send(std::span<const uint8_t> bytes) {
  command("{\"op\":\"send\",\"hex\":\"" + hex(bytes) + "\"}");
}
void WsPeer::send_text(const std::string& text) {
  command("{\"op\":\"text\",\"data\":" + json_string(text) + "}");
}
void WsPeer::send_zeros(size_t n) {
  command("{\"op\":\"raw_oversized\",\"bytes\":" + std::to_string(n) + "}");
}
void WsPeer::pause() {
  command("{\"op\":\"pause\"}");
  for (;;) {
    auto e = read_line(5000);
    if (!e || e->ev == "paused") return;
    queue_.push_back(*e);
  }
}
void WsPeer::close() { command("{\"op\":\"close\",\"code\":1000}"); }

Incoming WsPeer::call(const std::string& method, std::span<const uint8_t> payload, int timeout_ms) {
  uint64_t id = next_id_++;
  send(envelope_bytes(parley::Kind::Request, id, method, payload));
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::deque<PeerEvent> keep;
  Incoming result;
  result.received = false;
  result.status = Incoming::kNoResponse;
  result.error = "no response to " + method;
  // Look in the queue first, then read.
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->ev != "msg") continue;
    auto in = parse_envelope(it->bytes);
    if (in && in->kind == parley::Kind::Response && in->id == id) {
      queue_.erase(it);
      return *in;
    }
  }
  while (auto e = read_line(remaining(deadline))) {
    if (e->ev == "msg") {
      auto in = parse_envelope(e->bytes);
      if (in && in->kind == parley::Kind::Response && in->id == id) {
        result = *in;
        break;
      }
    }
    keep.push_back(*e);
    if (e->ev == "close") break;
  }
  for (auto& k : keep) queue_.push_back(std::move(k));
  if (!result.received) ADD_FAILURE() << "ws call " << method << ": no response";
  return result;
}

Incoming WsPeer::hello() {
  Incoming r = call("sys.hello", hello_payload(1, "ws-test"));
  EXPECT_TRUE(r.ok()) << "sys.hello over WebSocket: " << r.status << " " << r.error;
  return r;
}

std::optional<Incoming> WsPeer::next_event(const std::string& method, int timeout_ms) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->ev != "msg") continue;
    auto in = parse_envelope(it->bytes);
    if (in && in->kind == parley::Kind::Event && (method.empty() || in->method == method)) {
      queue_.erase(it);
      return in;
    }
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (auto e = read_line(remaining(deadline))) {
    if (e->ev == "msg") {
      auto in = parse_envelope(e->bytes);
      if (in && in->kind == parley::Kind::Event && (method.empty() || in->method == method))
        return in;
    }
    queue_.push_back(*e);
  }
  return std::nullopt;
}

std::optional<PeerEvent> WsPeer::wait_close(int timeout_ms, std::vector<Incoming>* seen) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (auto e = next(remaining(deadline))) {
    if (e->ev == "close") return e;
    if (e->ev == "msg" && seen)
      if (auto in = parse_envelope(e->bytes)) seen->push_back(*in);
  }
  return std::nullopt;
}

std::string raw_http(int port, const std::string& request, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  const char* p = request.data();
  size_t left = request.size();
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out;
  // Write and read interleaved: the server may answer (and stop reading)
  // before an oversized request is fully sent.
  while (remaining(deadline) > 0) {
    pollfd pfd{fd, static_cast<short>(POLLIN | (left ? POLLOUT : 0)), 0};
    if (poll(&pfd, 1, remaining(deadline)) <= 0) break;
    if (pfd.revents & POLLIN) {
      char buf[8192];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (pfd.revents & POLLOUT) {
      ssize_t n = ::send(fd, p, left, MSG_NOSIGNAL);
      if (n <= 0) {
        left = 0;
        continue;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (pfd.revents & (POLLERR | POLLHUP) && !(pfd.revents & POLLIN)) break;
  }
  close(fd);
  return out;
}

int http_status(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return -1;
  return std::atoi(response.substr(9, 3).c_str());
}

std::string http_body(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

}  // namespace parley::test::ws
