#include "wire.h"

#include <cstring>

namespace parley::loadgen {

namespace {
std::vector<uint8_t> finish_bytes(flatbuffers::FlatBufferBuilder& fbb) {
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

template <class T>
const T* root_of(const parley::Envelope& e, const char* ident) {
  auto* p = e.payload();
  if (!p || p->size() == 0 || !flatbuffers::BufferHasIdentifier(p->data(), ident)) return nullptr;
  flatbuffers::Verifier v(p->data(), p->size(), 64, 1000000, false);
  if (!v.VerifyBuffer<T>(ident)) return nullptr;
  return flatbuffers::GetRoot<T>(p->data());
}
}  // namespace

void append_request(std::string& out, uint64_t id, std::string_view method,
                    std::span<const uint8_t> payload) {
  // A builder per thread, reused: encoding is on the hot path of senders.
  thread_local flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Clear();
  auto m = fbb.CreateString(method.data(), method.size());
  auto p = fbb.CreateVector(payload.data(), payload.size());
  parley::EnvelopeBuilder b(fbb);
  b.add_id(id);
  b.add_payload(p);
  b.add_method(m);
  b.add_kind(parley::Kind::Request);
  fbb.FinishSizePrefixed(b.Finish(), parley::EnvelopeIdentifier());
  out.append(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

std::vector<uint8_t> hello_payload() {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::sys::CreateHelloDirect(fbb, 1, "parley-loadgen"), "PSYS");
  return finish_bytes(fbb);
}

std::vector<uint8_t> register_payload(const std::string& phone, const std::string& password,
                                      const std::string& name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::auth::CreateRegisterDirect(fbb, phone.c_str(), password.c_str(),
                                                name.c_str()),
             "PAUT");
  return finish_bytes(fbb);
}

std::vector<uint8_t> resume_payload(const std::string& token) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::auth::CreateResumeDirect(fbb, token.c_str()), "PAUT");
  return finish_bytes(fbb);
}

std::vector<uint8_t> create_room_payload(const std::string& name,
                                         const std::vector<std::string>& members) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
  for (auto& m : members) ids.push_back(fbb.CreateString(m));
  fbb.Finish(parley::rooms::CreateCreateDirect(fbb, name.c_str(), &ids), "PROM");
  return finish_bytes(fbb);
}

std::vector<uint8_t> open_direct_payload(const std::string& peer) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::rooms::CreateOpenDirectDirect(fbb, peer.c_str()), "PROM");
  return finish_bytes(fbb);
}

std::vector<uint8_t> send_payload(const std::string& room, uint64_t client_msg_id,
                                  const std::string& text) {
  thread_local flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Clear();
  std::string cid = std::to_string(client_msg_id);
  fbb.Finish(parley::rooms::CreateSendDirect(fbb, room.c_str(), cid.c_str(), text.c_str()),
             "PROM");
  return finish_bytes(fbb);
}

const parley::Envelope* verify_envelope(std::span<const uint8_t> envelope) {
  if (envelope.size() < 8 ||
      !flatbuffers::BufferHasIdentifier(envelope.data(), parley::EnvelopeIdentifier()))
    return nullptr;
  flatbuffers::Verifier v(envelope.data(), envelope.size(), 64, 1000000, false);
  if (!parley::VerifyEnvelopeBuffer(v)) return nullptr;
  return parley::GetEnvelope(envelope.data());
}

const parley::auth::Session* as_session(const parley::Envelope& e) {
  return root_of<parley::auth::Session>(e, "PAUT");
}
const parley::rooms::Room* as_room(const parley::Envelope& e) {
  return root_of<parley::rooms::Room>(e, "PROM");
}
const parley::rooms::Message* as_message(const parley::Envelope& e) {
  return root_of<parley::rooms::Message>(e, "PROM");
}

std::string stamped_text(uint64_t stamp_ns, size_t size) {
  std::string t = std::to_string(stamp_ns);
  t.push_back(' ');
  if (t.size() < size) t.resize(size, 'x');
  return t;
}

uint64_t stamp_of(const flatbuffers::String* text) {
  if (!text) return 0;
  uint64_t v = 0;
  for (char c : text->string_view()) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace parley::loadgen
