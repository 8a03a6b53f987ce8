// The C++ wrapper (services/storage.hpp) over a fake storage vtable backed by
// a std::map: batches reach the C calls intact, each callback runs exactly
// once, a refused call still calls back (at once) with its error, and an
// exception thrown by a callback stays on the C++ side.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <parley/services/storage.hpp>
#include <parley/util/keys.hpp>
#include <tuple>

namespace {

// The fake service: completions are queued and run by run_all(), as the real
// service runs them later on the loop.
struct Fake {
  std::map<std::pair<uint64_t, std::string>, std::string> data;
  std::deque<std::function<void()>> pending;
  int discarded = 0;
  void run_all() {
    while (!pending.empty()) {
      auto f = std::move(pending.front());
      pending.pop_front();
      f();
    }
  }
};
Fake* g_fake = nullptr;

struct FakeBatch {
  std::vector<std::tuple<uint64_t, bool, std::string, std::string>> ops;
};

parley_storage_ns fake_open(parley_plugin*, const char* suffix) {
  return suffix && std::string(suffix) == "bad" ? 0 : 7;
}
int fake_get(parley_storage_ns ns, const uint8_t* k, size_t kl, parley_storage_get_cb cb, void* ud) {
  if (ns != 7) return PARLEY_EINVAL;
  std::string key(reinterpret_cast<const char*>(k), kl);
  g_fake->pending.push_back([=] {
    auto it = g_fake->data.find({ns, key});
    if (it == g_fake->data.end())
      cb(ud, PARLEY_ENOENT, nullptr, 0);
    else
      cb(ud, 0, reinterpret_cast<const uint8_t*>(it->second.data()), it->second.size());
  });
  return 0;
}
parley_storage_batch* fake_batch_new() {
  return reinterpret_cast<parley_storage_batch*>(new FakeBatch);
}
int fake_put(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* k, size_t kl,
             const uint8_t* v, size_t vl) {
  if (kl == 0) return PARLEY_EINVAL;
  reinterpret_cast<FakeBatch*>(b)->ops.emplace_back(
      ns, false, std::string(reinterpret_cast<const char*>(k), kl),
      std::string(reinterpret_cast<const char*>(v), vl));
  return 0;
}
int fake_del(parley_storage_batch* b, parley_storage_ns ns, const uint8_t* k, size_t kl) {
  reinterpret_cast<FakeBatch*>(b)->ops.emplace_back(
      ns, true, std::string(reinterpret_cast<const char*>(k), kl), "");
  return 0;
}
int fake_commit(parley_storage_batch* raw, parley_storage_write_cb cb, void* ud) {
  std::unique_ptr<FakeBatch> b(reinterpret_cast<FakeBatch*>(raw));
  if (b->ops.empty()) return PARLEY_EINVAL;  // refused at once
  auto ops = b->ops;
  g_fake->pending.push_back([=] {
    for (const auto& [ns, del, k, v] : ops) {
      if (del)
        g_fake->data.erase({ns, k});
      else
        g_fake->data[{ns, k}] = v;
    }
    cb(ud, 0);
  });
  return 0;
}
void fake_discard(parley_storage_batch* b) {
  ++g_fake->discarded;
  delete reinterpret_cast<FakeBatch*>(b);
}
int fake_scan(parley_storage_ns ns, const uint8_t* s, size_t sl, const uint8_t* e, size_t el,
              uint32_t flags, size_t limit, parley_storage_scan_cb cb, void* ud) {
  std::string start(reinterpret_cast<const char*>(s), sl), end(reinterpret_cast<const char*>(e), el);
  g_fake->pending.push_back([=] {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [key, v] : g_fake->data)
      if (key.first == ns && key.second >= start && (end.empty() || key.second < end))
        rows.emplace_back(key.second, v);
    if (flags & PARLEY_SCAN_REVERSE) std::reverse(rows.begin(), rows.end());
    bool more = limit && rows.size() > limit;
    if (more) rows.resize(limit);
    std::vector<parley_storage_kv> kv;
    for (auto& [k, v] : rows)
      kv.push_back({reinterpret_cast<const uint8_t*>(k.data()), k.size(),
                    reinterpret_cast<const uint8_t*>(v.data()), v.size()});
    cb(ud, 0, kv.data(), kv.size(), more);
  });
  return 0;
}
int fake_scan_prefix(parley_storage_ns ns, const uint8_t* p, size_t pl, uint32_t flags, size_t limit,
                     parley_storage_scan_cb cb, void* ud) {
  std::string end = parley::keys::prefix_successor(std::string(reinterpret_cast<const char*>(p), pl));
  return fake_scan(ns, p, pl, reinterpret_cast<const uint8_t*>(end.data()), end.size(), flags,
                   limit, cb, ud);
}

const parley_storage_v1 kFakeVtable = {
    sizeof(parley_storage_v1), fake_open,   fake_get,     fake_batch_new,   fake_put, fake_del,
    fake_commit,               fake_discard, fake_scan, fake_scan_prefix, {}};

class WrapperTest : public ::testing::Test {
 protected:
  void SetUp() override { g_fake = &fake_; }
  void TearDown() override { g_fake = nullptr; }
  Fake fake_;
  parley::Storage storage_ = parley::Storage::from_service(&kFakeVtable);
};

}  // namespace

TEST_F(WrapperTest, BatchCommitThenGetAndScan) {
  auto ns = storage_.open_namespace(nullptr);
  auto b = storage_.batch();
  std::vector<uint8_t> bin = {0, 1, 2};
  b.put(ns, "a", "1").put(ns, "b", std::string("2")).put(ns, "c", bin).del(ns, "b");
  EXPECT_EQ(b.size(), 4u);
  int commits = 0;
  storage_.commit(std::move(b), [&](int st) {
    EXPECT_EQ(st, 0);
    ++commits;
  });
  EXPECT_EQ(commits, 0);  // later, not inline
  fake_.run_all();
  EXPECT_EQ(commits, 1);

  std::string got;
  int gets = 0;
  storage_.get(ns, "c", [&](int st, std::string_view v) {
    EXPECT_EQ(st, 0);
    got = std::string(v);
    ++gets;
  });
  storage_.get(ns, "b", [&](int st, std::string_view v) {
    EXPECT_EQ(st, PARLEY_ENOENT);
    EXPECT_TRUE(v.empty());
    ++gets;
  });
  std::vector<std::string> keys;
  bool more_seen = false;
  storage_.scan_prefix(ns, "", true, 1, [&](int st, const auto& items, bool more) {
    EXPECT_EQ(st, 0);
    for (const auto& it : items) keys.emplace_back(it.key);
    more_seen = more;
  });
  fake_.run_all();
  EXPECT_EQ(gets, 2);
  EXPECT_EQ(got, std::string("\0\1\2", 3));
  EXPECT_EQ(keys, std::vector<std::string>{"c"});
  EXPECT_TRUE(more_seen);
}

TEST_F(WrapperTest, RefusedCallsCallBackAtOnceWithTheError) {
  int status = 1, calls = 0;
  storage_.get(99, "k", [&](int st, std::string_view) {
    status = st;
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(status, PARLEY_EINVAL);
  storage_.commit(storage_.batch(), [&](int st) {
    status = st;
    ++calls;
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(status, PARLEY_EINVAL);
  EXPECT_THROW(storage_.open_namespace(nullptr, "bad"), std::runtime_error);
  auto b = storage_.batch();
  EXPECT_THROW(b.put(7, "", "v"), std::runtime_error);
}

TEST_F(WrapperTest, UncommittedBatchIsDiscardedAndMovedFromBatchIsInert) {
  {
    auto b = storage_.batch();
    b.put(7, "k", "v");
    auto moved = std::move(b);
  }
  EXPECT_EQ(fake_.discarded, 1);
}

TEST_F(WrapperTest, ExceptionInACallbackDoesNotEscape) {
  storage_.put(7, "k", "v", [](int) { throw std::runtime_error("boom"); });
  EXPECT_NO_THROW(fake_.run_all());
}

TEST(StorageWrapper, ErrorsMapToProtocolStatuses) {
  EXPECT_EQ(parley::storage_error_status(0), PARLEY_STATUS_OK);
  EXPECT_EQ(parley::storage_error_status(PARLEY_ENOENT), PARLEY_STATUS_NOT_FOUND);
  EXPECT_EQ(parley::storage_error_status(PARLEY_EUNAVAIL), PARLEY_STATUS_UNAVAILABLE);
  EXPECT_EQ(parley::storage_error_status(PARLEY_ECANCELED), PARLEY_STATUS_UNAVAILABLE);
  EXPECT_THROW(parley::Storage::from_service(nullptr), std::runtime_error);
}
