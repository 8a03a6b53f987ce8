// A pair of network namespaces joined by a veth link, for network-fault
// tests: parleyd runs in the "server" namespace, clients in the "client"
// one, and faults (nftables drops, tc tbf rate limits) are applied to the
// link between them. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and the
// `ip`, `nft` and `tc` tools; create() says why when it cannot.
#pragma once

#include <string>
#include <vector>

namespace parley::test::netfault {

class NetnsPair {
 public:
  // Addresses of the two ends of the veth link.
  static constexpr const char* kServerAddress = "10.77.0.1";
  static constexpr const char* kClientAddress = "10.77.0.2";

  NetnsPair() = default;
  // Returns this thread to the namespace it started in and deletes both
  // namespaces (which destroys the veth pair and every rule on it).
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  // Creates "pnf-<pid>-<n>-s" / "-c" (unique per process), the veth pair,
  // addresses and links up, plus an nftables table "pf" in the client
  // namespace with input/output chains for random drops and blackholes.
  // Also deletes namespaces left behind by earlier runs whose process is
  // gone. False and *why when anything fails (e.g. EPERM without root).
  bool create(std::string* why);

  // Moves the calling thread into a namespace. Sockets and child processes
  // created afterwards live there; threads started afterwards inherit it.
  bool enter_server(std::string* why) { return enter(server_, why); }
  bool enter_client(std::string* why) { return enter(client_, why); }

  // Faults, applied in the client namespace (both directions of the link).
  // Drops `percent`% of packets at random (nft numgen random).
  bool set_random_drops(int percent, std::string* why);
  // Drops every packet of the TCP connection whose client-side port is
  // `local_port` (an outage of one connection); clear_blackholes() ends it.
  bool blackhole_port(int local_port, std::string* why);
  bool clear_blackholes(std::string* why);
  // tc tbf on both veth ends (egress of each side).
  bool set_rate_limit(const std::string& rate, const std::string& burst, const std::string& latency,
                      std::string* why);
  bool clear_faults(std::string* why);
  // Packets dropped by the random-drop rules so far (nft counters), -1 if
  // unknown.
  long random_drops_counted();
  // Times either tbf qdisc had to delay or drop a packet (tc -s
  // "overlimits"), -1 if unknown.
  long rate_limit_overlimits();

  const std::string& server_ns() const { return server_; }
  const std::string& client_ns() const { return client_; }

 private:
  bool enter(const std::string& ns, std::string* why);
  // Runs `tool args...` inside namespace `ns` ("" = the current one).
  bool run_in(const std::string& ns, const std::vector<std::string>& command, std::string* why,
              std::string* output = nullptr);
  std::string server_, client_, server_if_, client_if_;
  int original_ns_fd_ = -1;
  bool created_ = false;
};

// The path of a system tool (ip, nft, tc) in the usual sbin/bin dirs; ""
// when absent.
std::string find_tool(const std::string& name);

}  // namespace parley::test::netfault
