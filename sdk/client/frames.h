// Size-prefixed Envelope frames: encoding Requests and splitting/verifying the
// byte stream from the server (PROTOCOL.md §1-§2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::client {

struct Incoming {
  uint8_t kind = 0;  // parley::Kind
  uint64_t id = 0;
  std::string method;
  uint16_t status = 0;
  std::string error;
  std::vector<uint8_t> payload;
};

// A Request frame, exactly FinishSizePrefixed output.
std::vector<uint8_t> encode_request(uint64_t id, const std::string& method,
                                    const std::vector<uint8_t>& payload);

// Accumulates received bytes and pops whole verified frames.
class FrameSplitter {
 public:
  void feed(const uint8_t* data, size_t len);
  // One frame when complete and valid; nullopt when more bytes are needed.
  // Sets *bad (and the stream is unusable) when a frame fails verification
  // or its length is out of bounds.
  std::optional<Incoming> next(bool* bad);
  void clear() { buf_.clear(); off_ = 0; }

 private:
  std::vector<uint8_t> buf_;
  size_t off_ = 0;
};

}  // namespace parley::client
