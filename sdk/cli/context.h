// What every CLI command shares: global options, the connected Client, the
// saved session and contacts, room resolution, and failing with one clear
// line on stderr.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "parley/client/client.hpp"
#include "session_store.h"

namespace parley::cli {

// Exit codes.
constexpr int kExitRefused = 1;     // the server refused a request
constexpr int kExitUsage = 2;       // bad command line
constexpr int kExitConnect = 3;     // unreachable server, TLS/certificate trouble
constexpr int kExitSession = 4;     // not logged in, expired session

// Thrown to end the command: main prints "parley: <what>" and exits `code`.
struct Failure : std::runtime_error {
  Failure(int c, const std::string& what) : std::runtime_error(what), code(c) {}
  int code;
};

struct Globals {
  std::string server = "127.0.0.1:7443";
  bool server_given = false;
  bool insecure = false;
  std::string ca_file;
  bool json = false;
};

class Context {
 public:
  explicit Context(Globals g) : g_(std::move(g)) {}
  const Globals& globals() const { return g_; }
  bool json() const { return g_.json; }

  // Connects (and, when `authenticate`, resumes the saved session, renewing
  // it with the refresh token when it expired). `follow`: long-lived
  // (auto-reconnect, gap-free event tracking).
  client::Client& connect(bool authenticate, bool follow = false);
  client::Client& client() { return *client_; }
  const SavedSession& session() const { return session_; }
  // Saves a new session for the current server.
  void save(const client::Session& s);
  void forget_session();

  // A room by id, unique id prefix, group name, or "+PHONE" (the direct room
  // with that user, opened if needed).
  client::Room resolve_room(const std::string& ref);
  client::User find_user(const std::string& phone);
  // A user's display name when known locally ("you" for ourselves), else a
  // short form of the id.
  std::string name_of(const std::string& user_id) const;
  std::string room_title(const client::Room& r) const;

  // Throws Failure(kExitRefused) with advice when `r` is not Ok.
  template <class T>
  T check(client::Result<T> r, const std::string& what) {
    if (!r.ok()) refused(r.status, r.error, what);
    return std::move(r.value);
  }
  [[noreturn]] void refused(client::Status s, const std::string& error, const std::string& what);

 private:
  void load_contacts();
  void remember(const client::User& u);

  Globals g_;
  std::unique_ptr<client::Client> client_;
  SavedSession session_;
  std::map<std::string, std::string> contacts_;  // user_id -> display name
};

// Splits "HOST:PORT" ("[v6]:PORT" too); throws Failure(kExitUsage).
void parse_server(const std::string& s, std::string* host, uint16_t* port);

}  // namespace parley::cli
