// The BIO between OpenSSL and a StreamConnection's socket. Instead of two
// memory BIOs per connection (whose buffers grow to the largest burst and
// never shrink, ~1.4 KiB per idle connection after the handshake), one
// buffer-less BIO serves as both ends:
//  - reads come straight from the bytes libuv just read into the loop-shared
//    read buffer (`in`, set for the duration of one on_read); an empty `in`
//    means "retry later";
//  - writes append to `out`, which the connection hands to uv_write whole
//    (the vector moves into the write request: an idle connection holds no
//    ciphertext buffer). `out` comes from the loop's CipherBufferPool and
//    goes back to it when the write completes.
// Everything runs on the loop thread.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley::kernel {

// A free list of ciphertext buffers shared by all connections of one loop.
// Without it every flush of every connection grew a fresh vector and freed
// it at write completion, and glibc handed that memory back to the OS each
// loop pass only to page-fault it in again (~20 % of server CPU in the
// fanout benchmark). Bounded: at most kMaxBuffers buffers and kMaxBytes of
// capacity are kept; buffers above kMaxBufferBytes (one burst's worth) are
// freed, not kept. Idle connections still hold no buffer.
class CipherBufferPool {
 public:
  // One full TLS record (16 KiB + header, tag and padding) and some more.
  static constexpr size_t kMinBufferBytes = 17 * 1024;
  static constexpr size_t kMaxBufferBytes = 256 * 1024;
  static constexpr size_t kMaxBuffers = 256;
  static constexpr size_t kMaxBytes = 8 * 1024 * 1024;

  // An empty buffer with capacity for at least `bytes` (and kMinBufferBytes).
  std::vector<uint8_t> take(size_t bytes);
  // Keeps `buf` (emptied, capacity kept) for a later take() unless the pool
  // is full or `buf` is too big; then it is freed.
  void give_back(std::vector<uint8_t>&& buf);

  size_t size() const { return free_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::vector<uint8_t>> free_;
  size_t bytes_ = 0;  // total capacity of free_
};

struct TlsIo {
  const uint8_t* in = nullptr;
  size_t in_len = 0;
  std::vector<uint8_t> out;
  // Where `out` comes from when it has no capacity; null: plain allocation.
  CipherBufferPool* pool = nullptr;
};

// A new BIO reading from and writing to `io` (not owned; must outlive the
// BIO). Give it to SSL_set_bio(ssl, bio, bio): one reference, owned by the
// SSL. nullptr when OpenSSL fails to allocate.
BIO* new_tls_io_bio(TlsIo* io);

}  // namespace parley::kernel
