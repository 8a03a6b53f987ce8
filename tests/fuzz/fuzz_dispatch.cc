// Fuzz target: the real request path with the real plugins. Each input is a
// short session on a fresh virtual connection of an in-process server
// (dispatch_harness.h): sys.hello, optionally authentication as the setup
// user, then up to kMaxRequests requests decoded from the input
// (dispatch_input.h) — any registered method or a raw name, with raw or
// structured payloads, or whole raw Envelopes. Every reply is checked for
// the exactly-once rule; the connection is then closed and the server
// drained, so one input's work never leaks into the next.
//
// Selector bits: bit 0 authenticate first (else the session stays
// anonymous), bit 1 skip sys.hello (requests before the handshake), bit 2
// close the connection without waiting for the replies.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dispatch_harness.h"
#include "dispatch_input.h"
#include "fuzz_input.h"

namespace d = parley::fuzz::dispatch;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Loads the plugins before the first input, so libFuzzer registers their
  // coverage counters with the executable's.
  d::Harness::get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  d::Harness& h = d::Harness::get();
  parley::fuzz::Input in(data, size);
  const uint8_t selector = in.selector();
  h.reset_input_context();
  d::Conn c(h, "127.0.0.1:1");
  if (!(selector & 2)) {
    h.hello(c);
    if (selector & 1) h.authenticate(c);
  }
  const auto& methods = h.methods();
  for (size_t n = 0; n < d::kMaxRequests && !in.rest().empty() && !c.closed(); ++n) {
    const uint8_t op = in.byte();
    std::string method = (op & 0x40) ? std::string(in.piece()) : methods[(op & 0x3f) % methods.size()];
    const uint8_t form = in.byte() % 8;
    if (op & 0x80) c.drain();
    if (form == 7) {
      c.send_envelope(in.piece());
      continue;
    }
    const d::MethodShape* shape = d::shape_of(method);
    std::string payload = form == 0 || !shape
                              ? std::string(in.piece())
                              : d::build_payload(*shape, form != 6, in, h.context());
    c.send(method, payload);
  }
  // Bit 2: hang up with the requests still in flight (the transport goes
  // away under the handlers); else collect every reply first.
  if (!(selector & 4)) c.drain();
  return 0;  // ~Conn closes the connection and drains the server
}
