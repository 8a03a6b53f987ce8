// The persistence plugin through a real parleyd (TLS, RocksDB in a temp data
// dir) and the `kv` test plugin: the storage service over the protocol,
// persistence across a graceful restart and across kill -9, the refusal of
// a second process on the same directory, config validation, and the
// SIGUSR1 checkpoint.
#include <gtest/gtest.h>
#include <signal.h>

#include <parley/errors.h>
#include <parley/util/keys.hpp>
#include <algorithm>
#include <filesystem>
#include <regex>

#include "parley_test.h"
#include "storage/db.h"

using namespace parley::test;
using parley::keys::KeyBuilder;
using parley::keys::KeyReader;

namespace {

std::string plugins_yaml(const std::string& persistence_config = "{}",
                         const std::string& kv_config = "{}") {
  return "persistence: {config: " + persistence_config + "}\n" + "kv: {path: " +
         test_plugin_dir() + "/libkv.so, config: " + kv_config + "}";
}

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(std::span<const uint8_t> p) { return {p.begin(), p.end()}; }

class Kv {
 public:
  explicit Kv(ServerProcess& server) {
    std::string error;
    client_ = Client::connect("127.0.0.1", server.port(), {}, &error);
    EXPECT_TRUE(client_) << error;
    if (client_) client_->hello();
  }
  bool connected() const { return client_ != nullptr; }

  Incoming put(const std::vector<std::pair<std::string, std::string>>& pairs) {
    KeyBuilder b;
    for (const auto& [k, v] : pairs) b.str(k).str(v);
    return client_->call("kv.put", bytes(b.done()));
  }
  Incoming put(const std::string& k, const std::string& v) { return put({{k, v}}); }
  Incoming del(const std::string& k) { return client_->call("kv.del", bytes(KeyBuilder().str(k).done())); }
  Incoming get(const std::string& k) { return client_->call("kv.get", bytes(KeyBuilder().str(k).done())); }
  // Keys and values of a scan, and `more`.
  std::vector<std::pair<std::string, std::string>> scan(const std::string& prefix, bool reverse,
                                                        uint32_t limit, bool* more = nullptr) {
    Incoming in = client_->call(
        "kv.scan", bytes(KeyBuilder().u8(reverse ? 1 : 0).u32(limit).str(prefix).done()));
    EXPECT_TRUE(in.ok()) << in.error;
    std::vector<std::pair<std::string, std::string>> out;
    if (!in.ok()) return out;
    std::string p = text(in.payload());
    KeyReader r(p);
    bool m = r.u8() != 0;
    if (more) *more = m;
    while (!r.at_end()) {
      std::string k(r.str());
      out.emplace_back(k, std::string(r.str()));
    }
    return out;
  }
  Client& client() { return *client_; }

 private:
  std::unique_ptr<Client> client_;
};

std::unique_ptr<ServerProcess> start(ServerOptions opts = {}) {
  if (opts.plugins_yaml.empty()) opts.plugins_yaml = plugins_yaml();
  std::string error;
  auto server = ServerProcess::start(opts, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

}  // namespace

TEST(Persistence, StorageServiceWorksThroughTheProtocol) {
  auto server = start();
  ASSERT_TRUE(server);
  Kv kv(*server);
  ASSERT_TRUE(kv.connected());

  EXPECT_TRUE(kv.put({{"msg/1", "hello"}, {"msg/2", "world"}, {"msg/3", "!"}, {"other", "x"}}).ok());
  Incoming got = kv.get("msg/2");
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(text(got.payload()), "world");

  Incoming missing = kv.get("msg/9");
  EXPECT_EQ(missing.status, PARLEY_STATUS_NOT_FOUND) << missing.error;

  bool more = false;
  auto items = kv.scan("msg/", /*reverse=*/true, 2, &more);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].first, "msg/3");
  EXPECT_EQ(items[1].first, "msg/2");
  EXPECT_TRUE(more);
  items = kv.scan("msg/", false, 0, &more);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].second, "hello");
  EXPECT_FALSE(more);

  EXPECT_TRUE(kv.del("msg/1").ok());
  EXPECT_EQ(kv.get("msg/1").status, PARLEY_STATUS_NOT_FOUND);
  // A malformed payload is the plugin's InvalidArgument, not a crash.
  EXPECT_EQ(kv.client().call("kv.get", bytes("\x00\x00\x00\x09" "ab")).status,
            PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(server->wait_for_log("database open path=", 1000));
}

TEST(Persistence, AcknowledgedWritesSurviveGracefulRestartAndKill9) {
  auto server = start();
  ASSERT_TRUE(server);
  {
    Kv kv(*server);
    ASSERT_TRUE(kv.connected());
    ASSERT_TRUE(kv.put("before-restart", "1").ok());
  }
  std::string error;
  ASSERT_TRUE(server->restart(&error)) << error;  // SIGTERM, then start again
  EXPECT_TRUE(server->previous_logs().find("database closed") != std::string::npos)
      << "persistence should close the database at shutdown";
  {
    Kv kv(*server);
    ASSERT_TRUE(kv.connected());
    EXPECT_EQ(text(kv.get("before-restart").payload()), "1");
    // Acknowledged, then the process dies without any shutdown.
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(kv.put("acked-" + std::to_string(i), "v").ok());
  }
  server->kill9();
  ASSERT_TRUE(server->restart(&error)) << error;
  Kv kv(*server);
  ASSERT_TRUE(kv.connected());
  for (int i = 0; i < 50; ++i) {
    Incoming in = kv.get("acked-" + std::to_string(i));
    ASSERT_TRUE(in.ok()) << i << ": " << in.error;
  }
  EXPECT_EQ(kv.scan("acked-", false, 0).size(), 50u);
}

TEST(Persistence, SecondProcessOnTheSameDataDirIsRefusedWithExit2) {
  auto server = start();
  ASSERT_TRUE(server);
  std::string output;
  int code = ServerProcess::run_to_exit(
      {"--config", server->config_path(), "--set", "listeners.0.port=0"}, &output, 15000);
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("persistence"), std::string::npos) << output;
  EXPECT_NE(output.find("LOCK"), std::string::npos) << output;
  EXPECT_NE(output.find("another parleyd"), std::string::npos) << output;
  // The first server is unaffected.
  Kv kv(*server);
  ASSERT_TRUE(kv.connected());
  EXPECT_TRUE(kv.put("still", "fine").ok());
}

TEST(Persistence, UnknownConfigKeyAndBadDurabilityAreRefused) {
  for (const char* config : {"{bogus_key: 1}", "{durability: sometimes}"}) {
    ServerOptions opts;
    opts.plugins_yaml = plugins_yaml(config);
    std::string error;
    auto server = ServerProcess::start(opts, &error);
    EXPECT_FALSE(server) << config;
    EXPECT_NE(error.find("persistence"), std::string::npos) << error;
    EXPECT_TRUE(error.find("bogus_key") != std::string::npos ||
                error.find("sometimes") != std::string::npos)
        << error;
  }
}

TEST(Persistence, AsyncDurabilityAndCustomPathWork) {
  ServerOptions opts;
  opts.plugins_yaml = plugins_yaml("{durability: async, path: store/kv, block_cache_mb: 8, "
                                   "write_buffer_mb: 4}");
  auto server = start(opts);
  ASSERT_TRUE(server);
  Kv kv(*server);
  ASSERT_TRUE(kv.connected());
  ASSERT_TRUE(kv.put("k", "v").ok());
  EXPECT_EQ(text(kv.get("k").payload()), "v");
  EXPECT_TRUE(server->wait_for_log("durability=async", 1000));
  EXPECT_TRUE(std::filesystem::exists(server->data_dir() + "/store/kv/CURRENT"));
}

TEST(Persistence, Sigusr1WritesAConsistentCheckpoint) {
  auto server = start();
  ASSERT_TRUE(server);
  Kv kv(*server);
  ASSERT_TRUE(kv.connected());
  ASSERT_TRUE(kv.put({{"room/1", "a"}, {"room/2", "b"}}).ok());

  ASSERT_EQ(kill(server->pid(), SIGUSR1), 0);
  ASSERT_TRUE(server->wait_for_log("checkpoint written to ", 10000)) << server->log();
  std::smatch m;
  std::string log = server->log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("checkpoint written to (\\S+)")));
  std::string dir = m[1];
  EXPECT_EQ(dir.rfind(server->data_dir() + "/backups/", 0), 0u) << dir;

  // The server keeps serving; later writes are not in the checkpoint.
  ASSERT_TRUE(kv.put("room/3", "c").ok());

  // The checkpoint is a database of its own, openable while the server runs.
  parley::storage::Options o;
  o.path = dir;
  std::unique_ptr<parley::storage::Db> db;
  ASSERT_TRUE(parley::storage::Db::open(o, &db).is_ok());
  parley::storage::Ns ns;
  ASSERT_TRUE(db->open_namespace("kv", &ns).is_ok());
  parley::storage::ScanResult r;
  ASSERT_TRUE(db->scan_prefix(ns, "", false, 0, &r).is_ok());
  std::vector<std::string> keys;
  for (const auto& item : r.items) keys.push_back(item.key);  // kv stores raw keys
  EXPECT_EQ(keys, (std::vector<std::string>{"room/1", "room/2"}));
}

TEST(Persistence, NamespacesOfPluginsAreSeparate) {
  // The kv plugin with a suffix opens "kv.alt"; data written there is not in
  // "kv" (checked on disk after the server stops).
  ServerOptions opts;
  opts.plugins_yaml = plugins_yaml("{}", "{suffix: alt}");
  auto server = start(opts);
  ASSERT_TRUE(server);
  {
    Kv kv(*server);
    ASSERT_TRUE(kv.connected());
    ASSERT_TRUE(kv.put("only-in-alt", "1").ok());
  }
  EXPECT_EQ(server->stop(), 0);
  parley::storage::Options o;
  o.path = server->data_dir() + "/db";
  std::unique_ptr<parley::storage::Db> db;
  ASSERT_TRUE(parley::storage::Db::open(o, &db).is_ok());
  auto names = db->namespaces();
  EXPECT_NE(std::find(names.begin(), names.end(), "kv.alt"), names.end());
  parley::storage::Ns alt, plain;
  ASSERT_TRUE(db->open_namespace("kv.alt", &alt).is_ok());
  ASSERT_TRUE(db->open_namespace("kv", &plain).is_ok());
  std::string v;
  EXPECT_TRUE(db->get(alt, "only-in-alt", &v).is_ok());
  EXPECT_EQ(db->get(plain, "only-in-alt", &v).code(), parley::storage::Code::kNotFound);
}

TEST(Persistence, PipelinedWritesAreAllAcknowledgedAndSurviveKill9) {
  // 200 puts in flight on one connection: the service groups them (the
  // library's group-commit tests count the fsyncs); each one is answered Ok
  // and each answered one is on disk after kill -9.
  auto server = start();
  ASSERT_TRUE(server);
  std::vector<uint64_t> ids;
  {
    Kv kv(*server);
    ASSERT_TRUE(kv.connected());
    for (int i = 0; i < 200; ++i)
      ids.push_back(kv.client().send(
          "kv.put", bytes(KeyBuilder().str("p/" + std::to_string(1000 + i)).str("v").done())));
    for (uint64_t id : ids) {
      auto in = kv.client().read_response(id, 10000);
      ASSERT_TRUE(in.has_value()) << id;
      ASSERT_TRUE(in->ok()) << id << ": " << in->error;
    }
  }
  server->kill9();
  std::string error;
  ASSERT_TRUE(server->restart(&error)) << error;
  Kv kv(*server);
  ASSERT_TRUE(kv.connected());
  auto items = kv.scan("p/", false, 0);
  ASSERT_EQ(items.size(), 200u);
  EXPECT_EQ(items.front().first, "p/1000");
  EXPECT_EQ(items.back().first, "p/1199");
}
