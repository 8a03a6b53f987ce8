#include "frames.h"

#include <flatbuffers/flatbuffers.h>

#include "parley/envelope_generated.h"

namespace parley::client {

namespace {
// Generous bound: the server's max_frame_bytes defaults to 1 MiB.
constexpr uint32_t kMaxFrame = 64u << 20;
}  // namespace

std::vector<uint8_t> encode_request(uint64_t id, const std::string& method,
                                    const std::vector<uint8_t>& payload) {
  flatbuffers::FlatBufferBuilder fbb(128 + payload.size());
  auto m = fbb.CreateString(method);
  auto p = payload.empty() ? flatbuffers::Offset<flatbuffers::Vector<uint8_t>>()
                           : fbb.CreateVector(payload);
  parley::EnvelopeBuilder eb(fbb);
  eb.add_id(id);
  eb.add_payload(p);
  eb.add_method(m);
  eb.add_kind(parley::Kind::Request);
  parley::FinishSizePrefixedEnvelopeBuffer(fbb, eb.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

void FrameSplitter::feed(const uint8_t* data, size_t len) {
  if (off_ > 0 && off_ == buf_.size()) {
    buf_.clear();
    off_ = 0;
  }
  buf_.insert(buf_.end(), data, data + len);
}

std::optional<Incoming> FrameSplitter::next(bool* bad) {
  *bad = false;
  const size_t avail = buf_.size() - off_;
  if (avail < 4) return std::nullopt;
  const uint8_t* p = buf_.data() + off_;
  const uint32_t len = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
                       uint32_t(p[3]) << 24;
  if (len < 8 || len > kMaxFrame) {
    *bad = true;
    return std::nullopt;
  }
  if (avail < 4 + size_t(len)) return std::nullopt;
  // The whole frame in memory of its own (malloc'd, so 8-aligned), verified
  // as the size-prefixed buffer FinishSizePrefixed produced.
  std::vector<uint8_t> frame(p, p + 4 + len);
  off_ += 4 + len;
  if (off_ > (1u << 20) && off_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(off_));
    off_ = 0;
  }
  flatbuffers::Verifier verifier(frame.data(), frame.size());
  if (!parley::VerifySizePrefixedEnvelopeBuffer(verifier)) {
    *bad = true;
    return std::nullopt;
  }
  const auto* env = parley::GetSizePrefixedEnvelope(frame.data());
  Incoming in;
  in.kind = static_cast<uint8_t>(env->kind());
  in.id = env->id();
  if (env->method()) in.method = env->method()->str();
  in.status = static_cast<uint16_t>(env->status());
  if (env->error()) in.error = env->error()->str();
  if (env->payload()) in.payload.assign(env->payload()->begin(), env->payload()->end());
  return in;
}

}  // namespace parley::client
