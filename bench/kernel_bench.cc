// Kernel micro-benchmarks (issue 10): frame decoding + verification, Envelope
// encoding, the fanout path (one encoded event shared into N connections'
// output queues, then each queue gathered into a TLS record), the cost of
// sealing one TLS record by size, and argon2id at the auth plugin's defaults.
//
//   ninja -C build parley_bench_kernel && build/bin/parley_bench_kernel
//
// The fanout benchmark mirrors Connection::enqueue + write_encrypted without
// sockets (a Connection needs a live Server): a shared_ptr copy into a deque
// per recipient, then per recipient a memcpy gather into a 16 KiB staging
// buffer and one AES-256-GCM seal (the TLS 1.3 record cipher) per record.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "credentials.h"
#include "envelope_codec.h"
#include "frame_decoder.h"

namespace {

using parley::kernel::FrameDecoder;
using parley::kernel::FramePtr;

std::vector<uint8_t> payload_of(size_t n) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>('a' + i % 26);
  return p;
}

// A stream of `count` rooms.send-sized Requests (about 150 bytes each, as a
// 64-byte text produces), exactly as FinishSizePrefixed lays them out.
std::vector<uint8_t> request_stream(int count) {
  std::vector<uint8_t> out;
  auto payload = payload_of(112);
  for (int i = 0; i < count; ++i) {
    FramePtr f = parley::kernel::encode_frame(parley::Kind::Request, i + 1, "rooms.send", 0,
                                              {}, payload);
    out.insert(out.end(), f->bytes.begin(), f->bytes.end());
  }
  return out;
}

// Frames per read: 1..1000, each read handed whole to the decoder and every
// Envelope verified (what on_plaintext does).
void BM_DecodeVerify(benchmark::State& state) {
  const int frames = static_cast<int>(state.range(0));
  auto stream = request_stream(frames);
  // An 8-byte aligned copy, as the connection's read buffer is.
  std::vector<uint64_t> words((stream.size() + 7) / 8);
  std::memcpy(words.data(), stream.data(), stream.size());
  std::span<const uint8_t> input(reinterpret_cast<const uint8_t*>(words.data()), stream.size());
  FrameDecoder decoder(1u << 20);
  uint64_t ids = 0;
  for (auto _ : state) {
    auto st = decoder.feed(input, [&](std::span<const uint8_t> env) {
      const parley::Envelope* e = parley::kernel::verify_envelope(env);
      if (e) ids += parley::kernel::envelope_id(e);
      return true;
    });
    if (st != FrameDecoder::Status::Ok) state.SkipWithError("decode failed");
  }
  benchmark::DoNotOptimize(ids);
  state.SetItemsProcessed(state.iterations() * frames);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_DecodeVerify)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);

// The same stream cut into reads of 1400 bytes (a typical TLS record's
// plaintext share after a small read): frames straddle reads and are copied.
void BM_DecodeVerifySplit(benchmark::State& state) {
  const int frames = 1000;
  auto stream = request_stream(frames);
  FrameDecoder decoder(1u << 20);
  uint64_t n = 0;
  for (auto _ : state) {
    for (size_t off = 0; off < stream.size(); off += 1400) {
      size_t len = std::min<size_t>(1400, stream.size() - off);
      decoder.feed(std::span<const uint8_t>(stream.data() + off, len),
                   [&](std::span<const uint8_t> env) {
                     n += parley::kernel::verify_envelope(env) != nullptr;
                     return true;
                   });
    }
  }
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(state.iterations() * frames);
}
BENCHMARK(BM_DecodeVerifySplit);

// One Envelope: an Event with a payload of N bytes (a rooms.message with a
// 64-byte text is about 200 bytes of payload).
void BM_EncodeEvent(benchmark::State& state) {
  auto payload = payload_of(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    FramePtr f = parley::kernel::encode_event("rooms.message", payload);
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeEvent)->Arg(0)->Arg(200)->Arg(4096);

void BM_EncodeResponse(benchmark::State& state) {
  auto payload = payload_of(64);
  uint64_t id = 1;
  for (auto _ : state) {
    FramePtr f = parley::kernel::encode_response(id++, "rooms.send", 0, {}, payload);
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeResponse);

// AES-256-GCM over one record of `n` bytes (+ 16-byte tag): the per-record
// cost of TLS 1.3 output, without the 5-byte header and the BIO copy.
struct Sealer {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::array<uint8_t, 32> key{};
  std::array<uint8_t, 12> iv{};
  std::vector<uint8_t> out = std::vector<uint8_t>(16384 + 64);
  Sealer() { EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), iv.data()); }
  ~Sealer() { EVP_CIPHER_CTX_free(ctx); }
  void seal(const uint8_t* p, size_t n) {
    int len = 0;
    ++iv[11];
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data());
    EVP_EncryptUpdate(ctx, out.data(), &len, p, static_cast<int>(n));
    EVP_EncryptFinal_ex(ctx, out.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + n);
  }
};

void BM_SealRecord(benchmark::State& state) {
  Sealer s;
  auto data = payload_of(static_cast<size_t>(state.range(0)));
  for (auto _ : state) s.seal(data.data(), data.size());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SealRecord)->Arg(64)->Arg(256)->Arg(1400)->Arg(16384);

// Fanout: one event encoded once, queued to N connections (shared_ptr copy
// per recipient), then every queue drained as the flush does it: gathered
// into 16 KiB records, each sealed once. `per_pass` events are queued before
// each flush (coalescing: more events per loop pass = fewer, larger records).
void BM_Fanout(benchmark::State& state) {
  const int recipients = static_cast<int>(state.range(0));
  const int per_pass = static_cast<int>(state.range(1));
  auto payload = payload_of(200);
  std::vector<std::deque<FramePtr>> queues(recipients);
  std::vector<uint8_t> staging(16384);
  Sealer sealer;
  for (auto _ : state) {
    for (int e = 0; e < per_pass; ++e) {
      FramePtr f = parley::kernel::encode_event("rooms.message", payload);
      for (auto& q : queues) q.push_back(f);
    }
    for (auto& q : queues) {
      size_t used = 0;
      for (const auto& f : q) {
        const uint8_t* p = f->bytes.data();
        size_t left = f->bytes.size();
        while (left > 0) {
          size_t take = std::min(left, staging.size() - used);
          std::memcpy(staging.data() + used, p, take);
          used += take;
          p += take;
          left -= take;
          if (used == staging.size()) {
            sealer.seal(staging.data(), used);
            used = 0;
          }
        }
      }
      if (used) sealer.seal(staging.data(), used);
      q.clear();
    }
  }
  // items = deliveries (event x recipient).
  state.SetItemsProcessed(state.iterations() * recipients * per_pass);
}
BENCHMARK(BM_Fanout)
    ->Args({10, 1})
    ->Args({100, 1})
    ->Args({1000, 1})
    ->Args({100, 16})
    ->Args({100, 64});

// The same fanout without the seal: what the kernel's own bookkeeping costs
// (refcount share + gather copy), i.e. the plaintext listener's path.
void BM_FanoutNoTls(benchmark::State& state) {
  const int recipients = static_cast<int>(state.range(0));
  auto payload = payload_of(200);
  std::vector<std::deque<FramePtr>> queues(recipients);
  for (auto _ : state) {
    FramePtr f = parley::kernel::encode_event("rooms.message", payload);
    for (auto& q : queues) q.push_back(f);
    for (auto& q : queues) {
      benchmark::DoNotOptimize(q.front()->bytes.data());
      q.clear();
    }
  }
  state.SetItemsProcessed(state.iterations() * recipients);
}
BENCHMARK(BM_FanoutNoTls)->Arg(100)->Arg(1000);

// argon2id at the auth plugin's default parameters (m = 19 MiB, t = 2): one
// auth.register / auth.login costs this much of one worker-pool core.
void BM_Argon2idDefault(benchmark::State& state) {
  parley::auth::crypto_init();
  parley::auth::Argon2Params params;
  for (auto _ : state) {
    auto h = parley::auth::hash_password("correct horse battery", params);
    if (!h) state.SkipWithError("hash failed");
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Argon2idDefault)->Unit(benchmark::kMillisecond)->UseRealTime();

// The light parameters the load generator's server config uses (m = 8 KiB,
// t = 1) so that registering thousands of users is quick.
void BM_Argon2idLight(benchmark::State& state) {
  parley::auth::crypto_init();
  parley::auth::Argon2Params params{8, 1};
  for (auto _ : state) {
    auto h = parley::auth::hash_password("correct horse battery", params);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Argon2idLight)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
