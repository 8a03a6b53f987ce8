// CipherBufferPool (kernel/tls_bio.h): ciphertext buffers are reused across
// writes instead of being allocated and freed per flush, and the pool stays
// bounded in count, per-buffer size and total bytes.
#include <gtest/gtest.h>
#include <openssl/bio.h>

#include <string>
#include <vector>

#include "tls_bio.h"

namespace parley::kernel {
namespace {

using Pool = CipherBufferPool;

TEST(CipherBufferPool, TakeGivesAnEmptyBufferWithRoomForARecordOrMore) {
  Pool pool;
  auto small = pool.take(10);
  EXPECT_TRUE(small.empty());
  EXPECT_GE(small.capacity(), Pool::kMinBufferBytes);
  auto big = pool.take(100 * 1024);
  EXPECT_GE(big.capacity(), 100u * 1024);
}

TEST(CipherBufferPool, AReturnedBufferIsReusedEmptyWithItsCapacity) {
  Pool pool;
  auto buf = pool.take(1000);
  buf.assign(5000, 0xab);
  const uint8_t* storage = buf.data();
  size_t cap = buf.capacity();
  pool.give_back(std::move(buf));
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.bytes(), cap);
  auto again = pool.take(1000);
  EXPECT_EQ(again.data(), storage);  // same allocation, not a new one
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.capacity(), cap);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.bytes(), 0u);
}

TEST(CipherBufferPool, SteadyTakeAndGiveBackDoesNotGrowThePool) {
  Pool pool;
  size_t bytes_after_first_round = 0;
  for (int round = 0; round < 1000; ++round) {
    std::vector<std::vector<uint8_t>> in_flight;
    for (int i = 0; i < 8; ++i) {
      in_flight.push_back(pool.take(200));
      in_flight.back().resize(200);
    }
    for (auto& b : in_flight) pool.give_back(std::move(b));
    if (round == 0) bytes_after_first_round = pool.bytes();
  }
  EXPECT_EQ(pool.size(), 8u);
  EXPECT_EQ(pool.bytes(), bytes_after_first_round);
  EXPECT_LE(pool.bytes(), 8 * 2 * Pool::kMinBufferBytes);
}

TEST(CipherBufferPool, KeepsAtMostMaxBuffers) {
  Pool pool;
  std::vector<std::vector<uint8_t>> in_flight;
  for (size_t i = 0; i < Pool::kMaxBuffers + 20; ++i) in_flight.push_back(pool.take(0));
  for (auto& b : in_flight) pool.give_back(std::move(b));
  EXPECT_EQ(pool.size(), Pool::kMaxBuffers);
  EXPECT_LE(pool.bytes(), Pool::kMaxBytes);
}

TEST(CipherBufferPool, KeepsAtMostMaxBytes) {
  Pool pool;
  std::vector<std::vector<uint8_t>> in_flight;
  size_t each = Pool::kMaxBufferBytes;  // the largest that is kept at all
  for (size_t i = 0; i < Pool::kMaxBytes / each + 5; ++i) in_flight.push_back(pool.take(each));
  for (auto& b : in_flight) pool.give_back(std::move(b));
  EXPECT_GT(pool.size(), 0u);
  EXPECT_LE(pool.bytes(), Pool::kMaxBytes);
  EXPECT_LT(pool.size(), in_flight.size());
}

TEST(CipherBufferPool, FreesBuffersLargerThanABurstAndEmptyOnes) {
  Pool pool;
  pool.give_back(pool.take(Pool::kMaxBufferBytes + 1));
  EXPECT_EQ(pool.size(), 0u);
  pool.give_back(std::vector<uint8_t>{});
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.bytes(), 0u);
}

TEST(CipherBufferPool, TheBioTakesItsOutputBufferFromThePool) {
  Pool pool;
  TlsIo io;
  io.pool = &pool;
  BIO* bio = new_tls_io_bio(&io);
  ASSERT_NE(bio, nullptr);
  // Nothing written: the connection holds no buffer.
  EXPECT_EQ(BIO_write(bio, "", 0), 0);
  EXPECT_EQ(io.out.capacity(), 0u);

  auto pooled = pool.take(0);
  const uint8_t* storage = pooled.data();
  pool.give_back(std::move(pooled));
  ASSERT_EQ(BIO_write(bio, "hello", 5), 5);
  EXPECT_EQ(io.out.data(), storage);
  EXPECT_EQ(pool.size(), 0u);
  ASSERT_EQ(BIO_write(bio, " world", 6), 6);
  EXPECT_EQ(std::string(io.out.begin(), io.out.end()), "hello world");
  BIO_free(bio);
}

}  // namespace
}  // namespace parley::kernel
