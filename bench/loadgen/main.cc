// parley-loadgen: drives a running parleyd with one of five workloads and
// reports throughput, latency percentiles and (with --server-pid) the
// server's CPU and memory. See bench/README.md.
#include <netdb.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "loadgen.h"

int main(int argc, char** argv) {
  using namespace parley::loadgen;
  Options o = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  // The idle scenario holds tens of thousands of sockets.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(o.host.c_str(), nullptr, &hints, &res) != 0 || !res) {
    std::fprintf(stderr, "parley-loadgen: cannot resolve %s\n", o.host.c_str());
    return 2;
  }
  sockaddr_in addr{};
  std::memcpy(&addr, res->ai_addr, sizeof addr);
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  freeaddrinfo(res);
  uv_loop_t* loop = uv_default_loop();
  Loadgen lg(o, loop, addr);
  return lg.run();
}
