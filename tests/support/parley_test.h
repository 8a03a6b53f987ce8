// Shared test support for Parley's integration and unit tests (target
// `parley_test_support`, namespace parley::test):
//  - ServerProcess: runs the real build/bin/parleyd as a child process on an
//    ephemeral port with a fresh data dir, captures its log, stops it.
//  - Client: a blocking TLS (or plain TCP) client with poll()-based timeouts
//    that speaks size-prefixed Envelopes and matches Responses by id.
//  - Frame helpers: build envelopes/frames (also malformed ones) and decode
//    them incrementally.
// Everything here is for tests: failures are reported through GoogleTest
// (ADD_FAILURE) where a test would otherwise hang or crash, and every wait has
// a timeout. Nothing is thread-safe unless said so; use one Client per thread.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/envelope_generated.h"
#include "parley/sys_generated.h"

// OpenSSL handles, declared here so the header does not pull in OpenSSL.
struct ssl_st;
struct ssl_ctx_st;

namespace parley::test {

// ---------------------------------------------------------------- paths ----

// The build tree (compile-time PARLEY_BUILD_DIR) and the source tree.
std::string build_dir();
std::string source_dir();
// build_dir() + "/bin/parleyd".
std::string parleyd_path();
// build_dir() + "/lib/parley/plugins" and ".../test-plugins".
std::string plugin_dir();
std::string test_plugin_dir();

// A fresh directory under $TMPDIR (or /tmp), removed recursively by the
// destructor unless keep() was called. Movable, not copyable.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "parley-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

bool write_file(const std::string& path, std::string_view content);
std::optional<std::string> read_file(const std::string& path);

// ---------------------------------------------------------------- frames ---

// An Envelope buffer (no length prefix) finished with the PRLY identifier.
std::vector<uint8_t> envelope_bytes(parley::Kind kind, uint64_t id,
                                    std::string_view method,
                                    std::span<const uint8_t> payload = {},
                                    uint16_t status = 0,
                                    std::string_view error = {});
// Prepends the 4-byte little-endian length to `envelope`.
std::vector<uint8_t> frame(std::span<const uint8_t> envelope);
// A 4-byte little-endian length prefix alone (for oversized / short-length
// framing tests).
std::vector<uint8_t> length_prefix(uint32_t length);
// Copies a finished builder's buffer.
std::vector<uint8_t> bytes_of(const flatbuffers::FlatBufferBuilder& fbb);
// A sys.Hello payload (PSYS).
std::vector<uint8_t> hello_payload(uint16_t protocol = 1,
                                   std::string_view client = "test");

// One received Envelope, owning its bytes. Copyable; envelope() points into
// this object's own bytes.
struct Incoming {
  std::vector<uint8_t> bytes;  // the Envelope buffer, after prefix_bytes
  size_t prefix_bytes = 0;     // 4 when bytes hold a native frame's prefix
  parley::Kind kind = parley::Kind::Request;
  uint64_t id = 0;
  std::string method;
  uint16_t status = 0;
  std::string error;
  // False only for the placeholder Client::call returns on a timeout or a
  // closed connection (then status is kNoResponse and error says why).
  bool received = true;

  static constexpr uint16_t kNoResponse = 0xFFFF;

  // Verified when it was parsed; nullptr for a placeholder.
  const parley::Envelope* envelope() const;
  std::span<const uint8_t> payload() const;
  bool ok() const { return received && status == 0; }
};

// Verifies `envelope` (Verifier + PRLY identifier, with alignment checks:
// parleyd aligns every Envelope to its own start, so a receiver that strips
// the prefix reads aligned fields) and copies it into an Incoming. nullopt
// when verification fails.
std::optional<Incoming> parse_envelope(std::span<const uint8_t> envelope);

// The same for a whole native frame, verified as a conforming client does it
// (PROTOCOL.md §1: the frame is FinishSizePrefixed output, so alignment is
// checked relative to the start of the length prefix).
std::optional<Incoming> parse_frame(std::span<const uint8_t> frame);

// A Request frame exactly as FinishSizePrefixed builds it (what parley's
// clients send); frame(envelope_bytes(...)) builds the Finish-then-prefix
// variant, which the server accepts too.
std::vector<uint8_t> native_frame(parley::Kind kind, uint64_t id,
                                  std::string_view method,
                                  std::span<const uint8_t> payload = {});

// A payload's root table of type T, verified with the given 4-character file
// identifier (e.g. "PSYS"); nullptr when the payload is empty, not verifiable
// or has another identifier. Valid while `in` lives.
template <class T>
const T* payload_as(const Incoming& in, const char* ident) {
  auto p = in.payload();
  if (p.empty() || !flatbuffers::BufferHasIdentifier(p.data(), ident))
    return nullptr;
  flatbuffers::Verifier verifier(p.data(), p.size());
  if (!verifier.VerifyBuffer<T>(ident)) return nullptr;
  return flatbuffers::GetRoot<T>(p.data());
}

// Incremental size-prefixed frame splitter (the client's side of framing).
// feed() appends bytes; next() pops one complete Envelope buffer (prefix
// removed) or nullopt when none is complete yet.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_frame_bytes = 64u << 20)
      : max_(max_frame_bytes) {}
  void feed(std::span<const uint8_t> bytes);
  // with_prefix keeps the 4-byte length in front (for parse_frame).
  std::optional<std::vector<uint8_t>> next(bool with_prefix = false);
  // True after a length prefix above the maximum was seen (the stream is
  // then unusable).
  bool broken() const { return broken_; }
  size_t buffered() const { return buf_.size() - off_; }

 private:
  std::vector<uint8_t> buf_;
  size_t off_ = 0;
  uint32_t max_;
  bool broken_ = false;
};

// ---------------------------------------------------------------- server ---

struct ServerOptions {
  // Body of the `plugins:` map, e.g. "echo: {}\nauth: {config: {token_ttl: 2s}}";
  // indented under `plugins:` as written. Empty: no `plugins:` key at all.
  std::string plugins_yaml;
  // Extra `--set key.path=value` overrides, e.g. "limits.max_pending_bytes=65536".
  std::vector<std::string> sets;
  // The "main" listener on 127.0.0.1 port 0: `tls: {dev: true, cert:
  // <data>/dev-cert.pem, key: <data>/dev-key.pem}` or `tls: off`.
  bool tls = true;
  // Replaces the whole generated `listeners:` list body when non-empty (YAML
  // list items, e.g. "- {name: a, address: '::1', port: 0, tls: off}").
  std::string listeners_yaml;
  // Listener names whose `listening name=<n> ...` line start() waits for.
  // Empty: {"main"}.
  std::vector<std::string> wait_listeners;
  // Empty: a fresh temp dir, removed at destruction unless keep_data.
  std::string data_dir;
  bool keep_data = false;
  // Empty: default plugin_dir (build/lib/parley/plugins, parleyd's own
  // default). Use test_plugin_dir() for test plugins.
  std::string plugin_dir;
  // Appended verbatim as top-level YAML (timeouts:, limits:, logging: ...).
  std::string extra_yaml;
  // Extra environment for the child, "NAME=value".
  std::vector<std::string> env;
  // How long start()/restart() wait for the listening lines.
  int start_timeout_ms = 10000;
};

class ServerProcess {
 public:
  // Writes <data>/parley.yaml, fork/execs parleyd --config <it> [--set ...]
  // with stdout+stderr captured, and waits for every expected `listening`
  // line. nullptr (and *error, including the captured log) when the process
  // exits or times out first.
  static std::unique_ptr<ServerProcess> start(const ServerOptions& options,
                                              std::string* error = nullptr);
  // Stops the server (SIGTERM, then SIGKILL after 10 s) if still running.
  // When the current test has failed, prints the server's log to stderr.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // The port a listener bound (from its `listening` line); -1 if unknown.
  int port(const std::string& listener = "main") const;
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& config_path() const { return config_path_; }
  const ServerOptions& options() const { return options_; }

  // Everything the current run wrote to stdout/stderr so far. Thread-safe.
  std::string log() const;
  // Waits until the current run's log contains `needle`. Thread-safe.
  bool wait_for_log(std::string_view needle, int timeout_ms);
  // How many times `needle` occurs in the current run's log.
  size_t count_in_log(std::string_view needle) const;

  // True while the child has not exited (reaps it if it has).
  bool alive();
  // Sends `sig`, waits up to timeout_ms for exit, then SIGKILLs. Returns the
  // exit code, or -signal when a signal ended it; also when already exited.
  int stop(int sig = SIGTERM, int timeout_ms = 10000);
  // SIGKILL and reap (crash simulation).
  void kill9();
  // Waits for the child to exit by itself; the status as stop() returns it,
  // or nullopt after timeout_ms.
  std::optional<int> wait_exit(int timeout_ms);
  // Stops the server if running, then starts it again with the same config
  // file and data dir (listeners on port 0 get new ports). The log restarts
  // empty (previous_logs() keeps earlier runs).
  bool restart(std::string* error = nullptr);
  const std::string& previous_logs() const { return previous_logs_; }

  // Runs parleyd with `args` (not including argv[0]) to completion, stdout
  // and stderr captured into *output. Returns the exit code, -signal, or
  // -SIGKILL after a timeout.
  static int run_to_exit(const std::vector<std::string>& args,
                         std::string* output, int timeout_ms = 10000);

 private:
  ServerProcess() = default;
  bool spawn(std::string* error);
  void reap(int status);
  struct LogState;

  ServerOptions options_;
  std::unique_ptr<TempDir> temp_;
  std::string data_dir_, config_path_;
  pid_t pid_ = -1;
  int exit_status_ = 0;  // valid when pid_ == -1 after a run
  std::shared_ptr<LogState> log_;
  std::string previous_logs_;
};

// The parley.yaml ServerProcess::start writes for `options` and `data_dir`
// (for refusal tests that run parleyd with ServerProcess::run_to_exit).
std::string server_config_yaml(const ServerOptions& options, const std::string& data_dir);

// Runs any program (path, argv without argv[0]) to completion; see
// ServerProcess::run_to_exit.
int run_program(const std::string& path, const std::vector<std::string>& args,
                std::string* output, int timeout_ms = 10000,
                const std::vector<std::string>& env = {});

// A self-signed ECDSA P-256 certificate for CN=localhost, made with the
// openssl command line in its own TempDir (for listeners that take a cert
// and key, e.g. the WebSocket bridge's wss). `ok` is false and `output`
// says why when openssl failed.
struct SelfSignedCert {
  SelfSignedCert();
  TempDir dir{"parley-test-cert"};
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  std::string output;
  bool ok = false;
};

// ---------------------------------------------------------------- client ---

struct ClientOptions {
  bool tls = true;
  // ALPN protocols offered, comma-separated ("parley/1", "h2,parley/1");
  // empty offers no ALPN extension at all.
  std::string alpn = "parley/1";
  // TLS version bounds as OpenSSL constants (TLS1_1_VERSION ...); 0 = the
  // library default (1.2 and up). A max below 1.2 lowers the client's
  // security level so that it really offers the old version.
  int min_tls = 0;
  int max_tls = 0;
  // Connect + handshake timeout.
  int timeout_ms = 5000;
  // SO_RCVBUF before connect (slow-consumer tests); 0 = OS default.
  int rcvbuf = 0;
  // A PEM CA file to verify the server against; empty = no verification
  // (the development certificate is self-signed).
  std::string ca_file;
};

class Client {
 public:
  // TCP connect + TLS handshake within options.timeout_ms. nullptr and
  // *error on failure (a refused handshake says so in *error).
  static std::unique_ptr<Client> connect(const std::string& host, int port,
                                         const ClientOptions& options = {},
                                         std::string* error = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends a Request with the next id (1, 2, ...) and returns that id.
  uint64_t send(const std::string& method, std::span<const uint8_t> payload = {});
  uint64_t send(const std::string& method, const flatbuffers::FlatBufferBuilder& fbb);
  // Sends a Request with a caller-chosen id.
  void send_with_id(uint64_t id, const std::string& method,
                    std::span<const uint8_t> payload = {});
  // Arbitrary bytes, as they are (framing tests). False if the write failed.
  bool send_raw(std::span<const uint8_t> bytes);

  // The next frame of any kind: first what earlier waits queued, then the
  // socket. nullopt on timeout, EOF or error (see closed(), last_error()).
  std::optional<Incoming> read(int timeout_ms);
  // Waits for the Response to `id`; other frames meanwhile are queued.
  std::optional<Incoming> read_response(uint64_t id, int timeout_ms = 5000);
  // send() + read_response(). On timeout or close: ADD_FAILURE and an
  // Incoming with received=false, status kNoResponse.
  Incoming call(const std::string& method, std::span<const uint8_t> payload = {},
                int timeout_ms = 5000);
  Incoming call(const std::string& method, const flatbuffers::FlatBufferBuilder& fbb,
                int timeout_ms = 5000);
  // The next Event (with that method, if non-empty): from the queue, then
  // the socket. Non-matching frames stay queued.
  std::optional<Incoming> next_event(const std::string& method = "",
                                     int timeout_ms = 5000);
  // Every queued Event plus everything arriving until nothing arrives for
  // quiet_ms. Responses stay queued.
  std::vector<Incoming> drain_events(int quiet_ms);
  // sys.hello (protocol 1); EXPECTs Ok and returns the Response (Welcome).
  Incoming hello(const std::string& client = "test");
  // Reads (and keeps) frames until the server closes (EOF/reset): true then;
  // false after timeout_ms. A sys.closing seen on the way is last_closing().
  bool wait_closed(int timeout_ms);
  std::optional<Incoming> last_closing() const { return last_closing_; }

  bool closed() const { return closed_; }
  const std::string& last_error() const { return last_error_; }
  // Negotiated ALPN ("" when none) and TLS version ("TLSv1.3"; "" for TCP).
  std::string alpn_selected() const;
  std::string tls_version() const;
  int fd() const { return fd_; }
  // Frames read so far that were not Envelopes (verification failures).
  int bad_frames() const { return bad_frames_; }
  // Closes the connection now (TLS close_notify best effort).
  void close();

 private:
  Client() = default;
  bool write_all(std::span<const uint8_t> bytes);
  // Reads once from the socket (waiting up to timeout_ms) into reader_;
  // false on timeout / EOF / error.
  bool fill(int timeout_ms);
  // Pops one verified frame from reader_, or nullopt.
  std::optional<Incoming> pop_frame();
  void note(const Incoming& in);

  int fd_ = -1;
  ::ssl_st* ssl_ = nullptr;
  ::ssl_ctx_st* ctx_ = nullptr;
  uint64_t next_id_ = 1;
  FrameReader reader_;
  std::deque<Incoming> queue_;
  std::optional<Incoming> last_closing_;
  bool closed_ = false;
  int bad_frames_ = 0;
  std::string last_error_;
};

}  // namespace parley::test
