#include "options.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace parley::loadgen {

namespace {
[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "parley-loadgen: %s\n", why);
  std::fprintf(stderr,
               "usage: parley-loadgen --server HOST:PORT [--insecure] [--ca FILE] [--tcp]\n"
               "         --scenario fanout|rooms|connect|idle|durable\n"
               "         [--members N] [--rooms N] [--connections N] [--rate MSGS_PER_S|0]\n"
               "         [--size BYTES] [--duration S] [--window N] [--tls-resume]\n"
               "         [--server-pid PID] [--json]\n");
  std::exit(2);
}
}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  bool have_server = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view k = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    if (k == "--server") {
      std::string s = value();
      auto colon = s.rfind(':');
      if (colon == std::string::npos) usage("--server wants HOST:PORT");
      o.host = s.substr(0, colon);
      o.port = std::atoi(s.c_str() + colon + 1);
      have_server = true;
    } else if (k == "--insecure") o.insecure = true;
    else if (k == "--tcp") o.tls = false;
    else if (k == "--ca") o.ca_file = value();
    else if (k == "--scenario") o.scenario = value();
    else if (k == "--members") o.members = std::atoi(value());
    else if (k == "--rooms") o.rooms = std::atoi(value());
    else if (k == "--connections") o.connections = std::atoi(value());
    else if (k == "--rate") o.rate = std::atof(value());
    else if (k == "--size") o.size = std::atoi(value());
    else if (k == "--duration") o.duration = std::atof(value());
    else if (k == "--window") o.window = std::atoi(value());
    else if (k == "--tls-resume") o.tls_resume = true;
    else if (k == "--server-pid") o.server_pid = static_cast<pid_t>(std::atoi(value()));
    else if (k == "--json") o.json = true;
    else if (k == "--help" || k == "-h") usage(nullptr);
    else usage(("unknown option " + std::string(k)).c_str());
  }
  if (!have_server) usage("--server is required");
  if (o.scenario.empty()) usage("--scenario is required");
  if (o.members < 1 || o.rooms < 1 || o.size < 1 || o.duration <= 0) usage("bad value");
  return o;
}

}  // namespace parley::loadgen
