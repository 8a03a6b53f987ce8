#include "tls_bio.h"

#include <algorithm>
#include <climits>
#include <cstring>

namespace parley::kernel {
namespace {

TlsIo* io_of(BIO* b) { return static_cast<TlsIo*>(BIO_get_data(b)); }

int io_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  TlsIo* io = io_of(b);
  if (!io || len < 0) return -1;
  if (len > 0 && io->out.capacity() == 0 && io->pool) io->out = io->pool->take(static_cast<size_t>(len));
  io->out.insert(io->out.end(), reinterpret_cast<const uint8_t*>(data),
                 reinterpret_cast<const uint8_t*>(data) + len);
  return len;
}

int io_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  TlsIo* io = io_of(b);
  if (!io || len <= 0) return 0;
  if (io->in_len == 0) {
    // Not EOF: the socket simply has nothing more for now.
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = std::min(io->in_len, static_cast<size_t>(len));
  std::memcpy(data, io->in, n);
  io->in += n;
  io->in_len -= n;
  return static_cast<int>(n);
}

int io_puts(BIO* b, const char* s) { return io_write(b, s, static_cast<int>(std::strlen(s))); }

long io_ctrl(BIO* b, int cmd, long, void*) {
  TlsIo* io = io_of(b);
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // writes are complete when io_write returns
    case BIO_CTRL_PENDING:
      return io ? static_cast<long>(std::min<size_t>(io->in_len, LONG_MAX)) : 0;
    case BIO_CTRL_WPENDING:
      return io ? static_cast<long>(std::min<size_t>(io->out.size(), LONG_MAX)) : 0;
    case BIO_CTRL_EOF:
      return 0;
    default:
      return 0;  // unsupported (e.g. kTLS queries): "no"
  }
}

int io_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

int io_destroy(BIO* b) {
  BIO_set_data(b, nullptr);
  return 1;
}

const BIO_METHOD* io_method() {
  // Created once per process (thread-safe static init), never freed.
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley tls io");
    if (!m) return m;
    BIO_meth_set_write(m, io_write);
    BIO_meth_set_read(m, io_read);
    BIO_meth_set_puts(m, io_puts);
    BIO_meth_set_ctrl(m, io_ctrl);
    BIO_meth_set_create(m, io_create);
    BIO_meth_set_destroy(m, io_destroy);
    return m;
  }();
  return method;
}

}  // namespace

std::vector<uint8_t> CipherBufferPool::take(size_t bytes) {
  bytes = std::max(bytes, kMinBufferBytes);
  std::vector<uint8_t> buf;
  if (!free_.empty()) {
    buf = std::move(free_.back());
    free_.pop_back();
    bytes_ -= buf.capacity();
  }
  buf.reserve(bytes);
  return buf;
}

void CipherBufferPool::give_back(std::vector<uint8_t>&& buf) {
  size_t cap = buf.capacity();
  if (cap == 0 || cap > kMaxBufferBytes || free_.size() >= kMaxBuffers ||
      bytes_ + cap > kMaxBytes) {
    std::vector<uint8_t>().swap(buf);
    return;
  }
  buf.clear();
  bytes_ += cap;
  free_.push_back(std::move(buf));
}

BIO* new_tls_io_bio(TlsIo* io) {
  const BIO_METHOD* m = io_method();
  if (!m) return nullptr;
  BIO* b = BIO_new(m);
  if (b) BIO_set_data(b, io);
  return b;
}

}  // namespace parley::kernel
