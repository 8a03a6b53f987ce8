// One TCP (+TLS) connection to parleyd: opened blocking (with a deadline),
// then used non-blocking by the I/O thread. Framing lives in frame_buffer.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "parley/client/client.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace parley::client {

struct ConnectError {
  ConnectFailure kind = ConnectFailure::None;
  std::string message;
};

class Connection {
 public:
  // TCP connect and TLS handshake (ALPN parley/1, verification as the options
  // say) within options.connect_timeout_ms. nullptr and *error on failure.
  static std::unique_ptr<Connection> open(const Options& options, ConnectError* error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  // Non-blocking I/O: > 0 bytes moved, 0 would block, -1 closed or failed
  // (error() says why).
  long read(uint8_t* buf, size_t len);
  long write(const uint8_t* buf, size_t len);
  // True when the last read/write could not proceed until the socket is
  // writable (TLS may need to write while reading).
  bool wants_write() const { return wants_write_; }
  // True when TLS holds decrypted bytes that poll() cannot see.
  bool has_buffered() const;
  const std::string& error() const { return error_; }

 private:
  Connection() = default;
  long io_result(int n, const char* what);

  int fd_ = -1;
  ::ssl_ctx_st* ctx_ = nullptr;
  ::ssl_st* ssl_ = nullptr;
  bool wants_write_ = false;
  std::string error_;
};

}  // namespace parley::client
