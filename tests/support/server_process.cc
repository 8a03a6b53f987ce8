// ServerProcess: the real parleyd as a child process with a captured log.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "child.h"
#include "parley_test.h"

namespace parley::test {

// The captured output of one run, filled by a reader thread. Shared with
// that thread, so it outlives a ServerProcess that is destroyed first.
struct ServerProcess::LogState {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::string text;
  size_t parsed = 0;  // offset up to which complete lines were scanned
  std::map<std::string, int> ports;
  bool eof = false;
  std::atomic<bool> stop{false};
  int fd = -1;
  std::thread reader;

  ~LogState() {
    stop = true;
    if (reader.joinable()) reader.join();
    if (fd >= 0) close(fd);
  }

  // Called with mu held: records `listening name=X address=Y port=Z` lines.
  void scan_lines() {
    for (;;) {
      size_t nl = text.find('\n', parsed);
      if (nl == std::string::npos) return;
      std::string_view line(text.data() + parsed, nl - parsed);
      parsed = nl + 1;
      size_t at = line.find("listening name=");
      if (at == std::string_view::npos) continue;
      std::string name, port;
      std::istringstream words{std::string(line.substr(at))};
      std::string word;
      auto unquote = [](std::string v) {
        while (!v.empty() && (v.back() == '"' || v.back() == ',' || v.back() == '}'))
          v.pop_back();
        if (!v.empty() && v.front() == '"') v.erase(0, 1);
        return v;
      };
      while (words >> word) {
        if (word.rfind("name=", 0) == 0) name = unquote(word.substr(5));
        if (word.rfind("port=", 0) == 0) port = unquote(word.substr(5));
      }
      if (!name.empty() && !port.empty()) {
        try {
          ports[name] = std::stoi(port);
        } catch (...) {
        }
      }
    }
  }

  void run() {
    char buf[8192];
    while (!stop) {
      pollfd pfd{fd, POLLIN, 0};
      int n = poll(&pfd, 1, 100);
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mu);
      if (r <= 0) {
        eof = true;
        cv.notify_all();
        return;
      }
      text.append(buf, static_cast<size_t>(r));
      scan_lines();
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    eof = true;
    cv.notify_all();
  }
};

namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string indent(const std::string& body, const std::string& pad) {
  std::string out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) out += pad + line + "\n";
  return out;
}

}  // namespace

std::string server_config_yaml(const ServerOptions& o, const std::string& data_dir) {
  std::string y = "# Written by parley_test_support for one test server.\n";
  y += "data_dir: " + quoted(data_dir) + "\n";
  y += "listeners:\n";
  if (!o.listeners_yaml.empty()) {
    y += indent(o.listeners_yaml, "  ");
  } else {
    y += "  - name: main\n    address: 127.0.0.1\n    port: 0\n";
    if (o.tls)
      y += "    tls: {dev: true, cert: " + quoted(data_dir + "/dev-cert.pem") +
           ", key: " + quoted(data_dir + "/dev-key.pem") + "}\n";
    else
      y += "    tls: off\n";
  }
  if (!o.plugin_dir.empty()) y += "plugin_dir: " + quoted(o.plugin_dir) + "\n";
  if (!o.plugins_yaml.empty()) y += "plugins:\n" + indent(o.plugins_yaml, "  ");
  if (!o.extra_yaml.empty()) {
    y += o.extra_yaml;
    if (y.back() != '\n') y += '\n';
  }
  return y;
}

std::unique_ptr<ServerProcess> ServerProcess::start(const ServerOptions& options,
                                                    std::string* error) {
  std::unique_ptr<ServerProcess> s(new ServerProcess());
  s->options_ = options;
  if (s->options_.wait_listeners.empty()) s->options_.wait_listeners = {"main"};
  if (options.data_dir.empty()) {
    s->temp_ = std::make_unique<TempDir>("parley-server");
    if (options.keep_data) s->temp_->keep();
    s->data_dir_ = s->temp_->path();
  } else {
    s->data_dir_ = options.data_dir;
  }
  s->config_path_ = s->data_dir_ + "/parley.yaml";
  if (!write_file(s->config_path_, server_config_yaml(s->options_, s->data_dir_))) {
    if (error) *error = "cannot write " + s->config_path_;
    return nullptr;
  }
  if (!s->spawn(error)) return nullptr;
  return s;
}

bool ServerProcess::spawn(std::string* error) {
  std::vector<std::string> args = {"--config", config_path_};
  for (const auto& kv : options_.sets) {
    args.push_back("--set");
    args.push_back(kv);
  }
  detail::Child child;
  std::string why;
  if (!detail::spawn(parleyd_path(), args, options_.env, &child, &why)) {
    if (error) *error = why;
    return false;
  }
  pid_ = child.pid;
  log_ = std::make_shared<LogState>();
  log_->fd = child.out_fd;
  log_->reader = std::thread([state = log_.get()] { state->run(); });

  bool ready = false;
  {
    std::unique_lock<std::mutex> lock(log_->mu);
    auto all_listening = [&] {
      for (const auto& name : options_.wait_listeners)
        if (!log_->ports.count(name)) return false;
      return true;
    };
    ready = log_->cv.wait_for(lock, std::chrono::milliseconds(options_.start_timeout_ms),
                              [&] { return all_listening() || log_->eof; }) &&
            all_listening();
  }
  if (ready) return true;

  std::string reason = alive() ? "did not report listening within " +
                                     std::to_string(options_.start_timeout_ms) + " ms"
                               : "exited with status " + std::to_string(exit_status_);
  stop(SIGKILL, 2000);
  if (error)
    *error = "parleyd (" + parleyd_path() + " --config " + config_path_ + ") " + reason +
             "; its output:\n" + log();
  return false;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGTERM, 10000);
  if (::testing::Test::HasFailure() && log_) {
    std::cerr << "----- parleyd log (" << config_path_ << ") -----\n"
              << previous_logs_ << log() << "----- end of parleyd log -----\n";
  }
}

int ServerProcess::port(const std::string& listener) const {
  if (!log_) return -1;
  std::lock_guard<std::mutex> lock(log_->mu);
  auto it = log_->ports.find(listener);
  return it == log_->ports.end() ? -1 : it->second;
}

std::string ServerProcess::log() const {
  if (!log_) return {};
  std::lock_guard<std::mutex> lock(log_->mu);
  return log_->text;
}

bool ServerProcess::wait_for_log(std::string_view needle, int timeout_ms) {
  if (!log_) return false;
  std::unique_lock<std::mutex> lock(log_->mu);
  return log_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return log_->text.find(needle) != std::string::npos;
  });
}

size_t ServerProcess::count_in_log(std::string_view needle) const {
  if (!log_ || needle.empty()) return 0;
  std::lock_guard<std::mutex> lock(log_->mu);
  size_t n = 0;
  for (size_t at = log_->text.find(needle); at != std::string::npos;
       at = log_->text.find(needle, at + needle.size()))
    ++n;
  return n;
}

void ServerProcess::reap(int status) {
  pid_ = -1;
  exit_status_ = detail::decode_status(status);
  // The pipe reaches EOF once the child is gone; give the reader a moment to
  // collect the last lines, then stop it regardless.
  std::unique_lock<std::mutex> lock(log_->mu);
  log_->cv.wait_for(lock, std::chrono::seconds(2), [&] { return log_->eof; });
  lock.unlock();
  log_->stop = true;
  if (log_->reader.joinable()) log_->reader.join();
}

bool ServerProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (detail::wait_pid(pid_, 0, &status)) {
    reap(status);
    return false;
  }
  return true;
}

std::optional<int> ServerProcess::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return exit_status_;
  int status = 0;
  if (!detail::wait_pid(pid_, timeout_ms, &status)) return std::nullopt;
  reap(status);
  return exit_status_;
}

int ServerProcess::stop(int sig, int timeout_ms) {
  if (pid_ <= 0) return exit_status_;
  kill(pid_, sig);
  int status = 0;
  if (!detail::wait_pid(pid_, timeout_ms, &status)) {
    kill(pid_, SIGKILL);
    detail::wait_pid(pid_, -1, &status);
  }
  reap(status);
  return exit_status_;
}

void ServerProcess::kill9() { stop(SIGKILL, 10000); }

bool ServerProcess::restart(std::string* error) {
  if (pid_ > 0) stop();
  if (log_) previous_logs_ += log();
  return spawn(error);
}

}  // namespace parley::test
