#include "netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "parley_test.h"

namespace parley::test::netfault {

namespace {

constexpr const char* kNetnsDir = "/run/netns";
constexpr const char* kPrefix = "pnf-";

// Names of this process's namespaces: pnf-<pid>-<n>-s / -c.
std::string unique_stem() {
  static std::atomic<int> counter{0};
  return std::string(kPrefix) + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Namespaces of earlier runs that were killed before their cleanup ran:
// "pnf-<pid>-..." whose pid no longer exists.
std::vector<std::string> stale_namespaces() {
  std::vector<std::string> out;
  DIR* d = opendir(kNetnsDir);
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(kPrefix, 0) != 0) continue;
    long pid = std::atol(name.c_str() + std::strlen(kPrefix));
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) out.push_back(name);
  }
  closedir(d);
  return out;
}

}  // namespace

std::string find_tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    std::string path = std::string(dir) + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

bool NetnsPair::run_in(const std::string& ns, const std::vector<std::string>& command,
                       std::string* why, std::string* output) {
  std::string tool = find_tool(command.at(0));
  if (tool.empty()) {
    if (why) *why = "`" + command[0] + "` is not installed";
    return false;
  }
  std::vector<std::string> args;
  std::string path = tool;
  if (!ns.empty()) {
    path = find_tool("ip");
    if (path.empty()) {
      if (why) *why = "`ip` (iproute2) is not installed";
      return false;
    }
    args = {"netns", "exec", ns, tool};
  }
  args.insert(args.end(), command.begin() + 1, command.end());
  std::string out;
  int rc = run_program(path, args, &out, 10000);
  if (output) *output = out;
  if (rc != 0) {
    if (why) {
      std::string line = path;
      for (const auto& a : args) line += " " + a;
      *why = line + " -> exit " + std::to_string(rc) + ": " + out;
    }
    return false;
  }
  return true;
}

bool NetnsPair::create(std::string* why) {
  for (const auto& stale : stale_namespaces()) run_in("", {"ip", "netns", "del", stale}, nullptr);
  original_ns_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ns_fd_ < 0) {
    if (why) *why = std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno);
    return false;
  }
  std::string stem = unique_stem();
  server_ = stem + "-s";
  client_ = stem + "-c";
  // Interface names are limited to 15 characters: "nf<pid><n>s".
  std::string short_stem = "nf" + stem.substr(std::strlen(kPrefix));
  short_stem.erase(std::remove(short_stem.begin(), short_stem.end(), '-'), short_stem.end());
  server_if_ = short_stem.substr(0, 13) + "s";
  client_if_ = short_stem.substr(0, 13) + "c";

  if (!run_in("", {"ip", "netns", "add", server_}, why)) return false;
  created_ = true;  // from here on the destructor cleans up
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", client_},
      {"ip", "link", "add", server_if_, "type", "veth", "peer", "name", client_if_},
      {"ip", "link", "set", server_if_, "netns", server_},
      {"ip", "link", "set", client_if_, "netns", client_},
      {"ip", "-n", server_, "addr", "add", std::string(kServerAddress) + "/24", "dev", server_if_},
      {"ip", "-n", client_, "addr", "add", std::string(kClientAddress) + "/24", "dev", client_if_},
      {"ip", "-n", server_, "link", "set", server_if_, "up"},
      {"ip", "-n", client_, "link", "set", client_if_, "up"},
      {"ip", "-n", server_, "link", "set", "lo", "up"},
      {"ip", "-n", client_, "link", "set", "lo", "up"},
  };
  for (const auto& step : steps)
    if (!run_in("", step, why)) return false;
  // Random drops and blackholes live in separate base chains so that each
  // can be flushed on its own.
  const std::vector<std::vector<std::string>> nft = {
      {"nft", "add", "table", "inet", "pf"},
      {"nft", "add", "chain", "inet", "pf", "drop_in", "{ type filter hook input priority 0 ; }"},
      {"nft", "add", "chain", "inet", "pf", "drop_out", "{ type filter hook output priority 0 ; }"},
      {"nft", "add", "chain", "inet", "pf", "bh_in", "{ type filter hook input priority 10 ; }"},
      {"nft", "add", "chain", "inet", "pf", "bh_out", "{ type filter hook output priority 10 ; }"},
  };
  for (const auto& step : nft)
    if (!run_in(client_, step, why)) return false;
  return true;
}

NetnsPair::~NetnsPair() {
  if (original_ns_fd_ >= 0) {
    setns(original_ns_fd_, CLONE_NEWNET);
    close(original_ns_fd_);
  }
  if (created_) {
    // Deleting the namespaces destroys the veth pair, qdiscs and nft rules.
    run_in("", {"ip", "netns", "del", server_}, nullptr);
    run_in("", {"ip", "netns", "del", client_}, nullptr);
  }
}

bool NetnsPair::enter(const std::string& ns, std::string* why) {
  std::string path = std::string(kNetnsDir) + "/" + ns;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (why) *why = "open " + path + ": " + std::strerror(errno);
    return false;
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc != 0) {
    if (why) *why = "setns " + path + ": " + std::strerror(err);
    return false;
  }
  return true;
}

bool NetnsPair::set_random_drops(int percent, std::string* why) {
  for (const char* chain : {"drop_in", "drop_out"}) {
    if (!run_in(client_, {"nft", "flush", "chain", "inet", "pf", chain}, why)) return false;
    if (percent <= 0) continue;
    if (!run_in(client_,
                {"nft", "add", "rule", "inet", "pf", chain, "numgen", "random", "mod", "100", "<",
                 std::to_string(percent), "counter", "drop"},
                why))
      return false;
  }
  return true;
}

long NetnsPair::random_drops_counted() {
  long total = 0;
  for (const char* chain : {"drop_in", "drop_out"}) {
    std::string out;
    if (!run_in(client_, {"nft", "list", "chain", "inet", "pf", chain}, nullptr, &out)) return -1;
    size_t at = out.find("packets ");
    if (at != std::string::npos) total += std::atol(out.c_str() + at + 8);
  }
  return total;
}

long NetnsPair::rate_limit_overlimits() {
  long total = 0;
  for (const auto& [ns, dev] : {std::pair{server_, server_if_}, std::pair{client_, client_if_}}) {
    std::string out;
    if (!run_in(ns, {"tc", "-s", "qdisc", "show", "dev", dev}, nullptr, &out)) return -1;
    size_t at = out.find("overlimits ");
    if (at != std::string::npos) total += std::atol(out.c_str() + at + 11);
  }
  return total;
}

bool NetnsPair::blackhole_port(int local_port, std::string* why) {
  std::string port = std::to_string(local_port);
  return run_in(client_,
                {"nft", "add", "rule", "inet", "pf", "bh_in", "tcp", "dport", port, "drop"}, why) &&
         run_in(client_,
                {"nft", "add", "rule", "inet", "pf", "bh_out", "tcp", "sport", port, "drop"}, why);
}

bool NetnsPair::clear_blackholes(std::string* why) {
  return run_in(client_, {"nft", "flush", "chain", "inet", "pf", "bh_in"}, why) &&
         run_in(client_, {"nft", "flush", "chain", "inet", "pf", "bh_out"}, why);
}

bool NetnsPair::set_rate_limit(const std::string& rate, const std::string& burst,
                               const std::string& latency, std::string* why) {
  return run_in(server_,
                {"tc", "qdisc", "replace", "dev", server_if_, "root", "tbf", "rate", rate, "burst",
                 burst, "latency", latency},
                why) &&
         run_in(client_,
                {"tc", "qdisc", "replace", "dev", client_if_, "root", "tbf", "rate", rate, "burst",
                 burst, "latency", latency},
                why);
}

bool NetnsPair::clear_faults(std::string* why) {
  // No qdisc to delete is not an error here.
  run_in(server_, {"tc", "qdisc", "del", "dev", server_if_, "root"}, nullptr);
  run_in(client_, {"tc", "qdisc", "del", "dev", client_if_, "root"}, nullptr);
  return set_random_drops(0, why) && clear_blackholes(why);
}

}  // namespace parley::test::netfault
