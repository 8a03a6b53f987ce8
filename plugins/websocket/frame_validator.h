// RFC 6455 §5 checks of the client-to-server byte stream, run on every byte
// before libwslay sees it. wslay reassembles messages and answers pings and
// closes correctly for a valid stream, but on some violations it misbehaves:
// a 1-byte close payload is echoed as a clean close, a close reason split
// across reads escapes its UTF-8 check, and framing errors (fragmented or
// oversized control frames) end in a close frame without a status code
// followed by a dropped socket. The validator finds every violation itself,
// so wslay is only ever handed a valid prefix of the stream, and the bridge
// fails the connection with the right close code (RFC 6455 §7.4.1):
//   1002 protocol error (reserved bits, reserved opcodes, unmasked frames,
//        a length not in its shortest form, fragmented or oversized control
//        frames, bad continuation, a close payload of 1 byte or with an
//        invalid status code),
//   1007 invalid UTF-8 in a text message or a close reason (fail fast: at
//        the first byte that cannot start or continue a valid sequence),
//   1009 a message above the configured maximum (before it is buffered).
// Pure: no I/O, no SDK, fuzzed by tests/fuzz/fuzz_websocket.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::websocket {

// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), one byte at a time across frame boundaries.
class Utf8Stream {
 public:
  // False as soon as `b` cannot continue a valid sequence.
  bool feed(uint8_t b);
  // True when no multi-byte sequence is left open.
  bool complete() const { return need_ == 0; }
  void reset() { *this = Utf8Stream(); }

 private:
  int need_ = 0;                   // continuation bytes still expected
  uint8_t lo_ = 0x80, hi_ = 0xBF;  // allowed range of the next continuation byte
};

// The status codes a peer may put in a close frame (RFC 6455 §7.4 and the
// IANA registry as the Autobahn suite reads it): 1000-1003, 1007-1011 and
// 3000-4999.
bool valid_close_code(uint16_t code);

class FrameValidator {
 public:
  struct Verdict {
    // Bytes [0, forward) of this feed() may be handed on to the frame
    // library now. On a violation it stops before the offending frame (or
    // before the part of it in this feed), so the library never completes
    // a bad frame.
    size_t forward = 0;
    // Bytes [forward, accepted) belong to the peer's close frame: the caller
    // holds them until close_complete and then hands on the whole frame at
    // once (libwslay checks a close reason's UTF-8 per read and misjudges a
    // reason split across reads). Nothing after the close frame is accepted.
    size_t accepted = 0;
    bool close_complete = false;
    uint16_t close_code = 0;  // 0: no violation
    std::string reason;       // why, for the close frame and the log
  };

  explicit FrameValidator(uint64_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Scans the next bytes of the stream. After a violation or after a valid
  // close frame, every later byte is refused (accepted == 0).
  Verdict feed(std::string_view bytes);

  bool failed() const { return failed_; }
  // A valid close frame has been seen: RFC 6455 §5.5.1, nothing follows it.
  bool close_seen() const { return close_seen_; }

 private:
  // Called for each header byte from the second on: checks the first two
  // bytes, the extended length once complete, then the complete header;
  // returns the close code of a violation (and *why), 0 when acceptable.
  uint16_t check_header(std::string* why);
  // A frame's payload is complete: message and close checks.
  uint16_t end_of_frame(std::string* why);
  uint16_t payload_byte(uint8_t b, std::string* why);

  uint64_t max_message_;
  bool failed_ = false, close_seen_ = false;

  // The frame being read.
  uint8_t header_[14] = {};
  size_t header_len_ = 0;
  bool fin_ = false;
  uint8_t opcode_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t payload_pos_ = 0;  // bytes of this frame's payload read so far
  uint8_t mask_[4] = {};
  bool in_payload_ = false;

  // The data message in progress (between a non-FIN data frame and the
  // FIN continuation).
  bool in_message_ = false;
  bool message_is_text_ = false;
  uint64_t message_bytes_ = 0;
  Utf8Stream text_;

  std::string control_;  // a control frame's payload (at most 125 bytes)
};

}  // namespace parley::websocket
