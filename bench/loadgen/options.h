// parley-loadgen's command line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace parley::loadgen {

struct Options {
  std::string host = "127.0.0.1";
  int port = 7443;
  bool insecure = false;
  bool tls = true;          // --tcp: a `tls: off` listener
  std::string ca_file;      // --ca FILE: trust this certificate
  std::string scenario;
  int members = 100;        // fanout: room members (receivers)
  int rooms = 50;           // rooms: direct rooms (2 users each)
  int connections = 0;      // connect: concurrent; idle: total; durable: senders
  double rate = 0;          // messages/s over all senders; 0: as fast as acked
  int size = 64;            // text bytes
  double duration = 10;     // seconds measured
  int window = 0;           // sends in flight per sender (0: scenario default)
  bool tls_resume = false;  // connect: reuse TLS sessions
  pid_t server_pid = 0;
  bool json = false;
  int setup_concurrency = 64;
};

// Parses argv; prints usage and exits on errors.
Options parse_options(int argc, char** argv);

}  // namespace parley::loadgen
