// RFC 6455 §5.2-§5.5 and §8.1 checks of the client's frames (see the header).
#include "frame_validator.h"

#include <parley/util/utf8.hpp>

#include <algorithm>

namespace parley::websocket {
namespace {

constexpr uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8;

bool is_control(uint8_t opcode) { return (opcode & 0x8) != 0; }
bool is_reserved(uint8_t opcode) { return (opcode >= 0x3 && opcode <= 0x7) || opcode >= 0xB; }

// Header bytes for the 7-bit length field `len7` of a masked frame.
size_t header_size(uint8_t len7) { return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4; }

}  // namespace

bool Utf8Stream::feed(uint8_t b) {
  if (need_ > 0) {
    if (b < lo_ || b > hi_) return false;
    lo_ = 0x80;
    hi_ = 0xBF;
    --need_;
    return true;
  }
  if (b < 0x80) return true;
  // The lead byte fixes the length and the range of the first continuation
  // byte, which is where overlongs, surrogates and > U+10FFFF are excluded.
  if (b >= 0xC2 && b <= 0xDF) need_ = 1;
  else if (b == 0xE0) need_ = 2, lo_ = 0xA0;
  else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need_ = 2;
  else if (b == 0xED) need_ = 2, hi_ = 0x9F;
  else if (b == 0xF0) need_ = 3, lo_ = 0x90;
  else if (b >= 0xF1 && b <= 0xF3) need_ = 3;
  else if (b == 0xF4) need_ = 3, hi_ = 0x8F;
  else return false;
  return true;
}

bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

FrameValidator::Verdict FrameValidator::feed(std::string_view bytes) {
  Verdict v;
  if (failed_ || close_seen_) return v;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t frame_start = 0;  // where the current frame began in `bytes` (0: earlier)
  size_t i = 0;
  while (i < bytes.size()) {
    uint16_t code = 0;
    std::string why;
    if (!in_payload_) {
      if (header_len_ == 0) frame_start = i;
      header_[header_len_++] = p[i++];
      // Checked at each stage, as soon as its bytes are in (and never later
      // than wslay, which reads the same header bytes): the first two
      // bytes, the extended length, the complete header.
      if (header_len_ >= 2) {
        code = check_header(&why);
        if (!code && header_len_ == header_size(header_[1] & 0x7F)) {
          in_payload_ = true;
          if (payload_left_ == 0) code = end_of_frame(&why);
        }
      }
    } else if (opcode_ == kBinary || (opcode_ == kContinuation && !message_is_text_) ||
               (is_control(opcode_) && opcode_ != kClose)) {
      // Payload nobody here reads (binary data, ping and pong): skip it.
      uint64_t n = std::min<uint64_t>(payload_left_, bytes.size() - i);
      i += n;
      payload_pos_ += n;
      payload_left_ -= n;
      if (payload_left_ == 0) code = end_of_frame(&why);
    } else {
      code = payload_byte(p[i++] ^ mask_[payload_pos_ % 4], &why);
      ++payload_pos_;
      --payload_left_;
      if (!code && payload_left_ == 0) code = end_of_frame(&why);
    }
    if (code) {
      failed_ = true;
      v.accepted = v.forward = frame_start;
      v.close_code = code;
      v.reason = std::move(why);
      return v;
    }
    if (close_seen_) {
      v.forward = frame_start;
      v.accepted = i;  // the close frame itself; nothing after it
      v.close_complete = true;
      return v;
    }
  }
  v.accepted = bytes.size();
  // A close frame still arriving is held back whole (see Verdict).
  bool in_close = header_len_ > 0 && (header_[0] & 0x0F) == kClose;
  v.forward = in_close ? frame_start : bytes.size();
  return v;
}

uint16_t FrameValidator::check_header(std::string* why) {
  fin_ = (header_[0] & 0x80) != 0;
  opcode_ = header_[0] & 0x0F;
  uint8_t len7 = header_[1] & 0x7F;
  if (header_len_ == 2) {
    if (header_[0] & 0x70) return *why = "reserved bits set (no extension was negotiated)", 1002;
    if (is_reserved(opcode_)) return *why = "reserved opcode " + std::to_string(opcode_), 1002;
    if (!(header_[1] & 0x80)) return *why = "client frames must be masked", 1002;
    if (is_control(opcode_) && !fin_) return *why = "fragmented control frame", 1002;
    if (is_control(opcode_) && len7 > 125)
      return *why = "control frame payload above 125 bytes", 1002;
    if (opcode_ == kContinuation && !in_message_)
      return *why = "continuation frame without a message to continue", 1002;
    if ((opcode_ == kText || opcode_ == kBinary) && in_message_)
      return *why = "new data frame inside a fragmented message", 1002;
  }
  const size_t at = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;  // where the mask key starts
  if (header_len_ < at) return 0;  // the extended length is still arriving
  uint64_t length = len7;
  for (size_t k = 2; k < at; ++k) length = (k == 2 ? 0 : length << 8) | header_[k];
  if (header_len_ == at && at > 2) {
    if (len7 == 126 && length < 126) return *why = "payload length not in its shortest form", 1002;
    if (len7 == 127 && (length >> 63))
      return *why = "payload length with the most significant bit set", 1002;
    if (len7 == 127 && length < 65536)
      return *why = "payload length not in its shortest form", 1002;
  }
  if (header_len_ < at + 4) return 0;  // the mask key is still arriving
  std::copy(header_ + at, header_ + at + 4, mask_);
  uint64_t before = is_control(opcode_) ? 0 : (opcode_ == kContinuation ? message_bytes_ : 0);
  if (length > max_message_ || before > max_message_ - length)
    return *why = "message above " + std::to_string(max_message_) + " bytes", 1009;
  if (!is_control(opcode_)) {
    if (opcode_ != kContinuation) {
      in_message_ = true;
      message_is_text_ = opcode_ == kText;
      message_bytes_ = 0;
      text_.reset();
    }
    message_bytes_ += length;
  }
  payload_left_ = length;
  payload_pos_ = 0;
  return 0;
}

uint16_t FrameValidator::payload_byte(uint8_t b, std::string* why) {
  if (opcode_ == kClose) {
    control_.push_back(static_cast<char>(b));
    return 0;
  }
  if (!text_.feed(b)) return *why = "invalid UTF-8 in a text message", 1007;
  return 0;
}

uint16_t FrameValidator::end_of_frame(std::string* why) {
  header_len_ = 0;
  in_payload_ = false;
  if (opcode_ == kClose) {
    std::string payload = std::move(control_);
    control_.clear();
    if (payload.size() == 1) return *why = "close frame with a 1-byte payload", 1002;
    if (payload.size() >= 2) {
      uint16_t code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                            static_cast<uint8_t>(payload[1]));
      if (!valid_close_code(code))
        return *why = "invalid close code " + std::to_string(code), 1002;
      if (!util::utf8_valid(std::string_view(payload).substr(2)))
        return *why = "invalid UTF-8 in the close reason", 1007;
    }
    close_seen_ = true;
    return 0;
  }
  if (is_control(opcode_) || !fin_) return 0;
  if (message_is_text_ && !text_.complete())
    return *why = "text message ends inside a UTF-8 sequence", 1007;
  in_message_ = false;
  message_bytes_ = 0;
  text_.reset();
  return 0;
}

}  // namespace parley::websocket
