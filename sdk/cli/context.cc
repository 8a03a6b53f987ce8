#include "context.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "json.h"

namespace parley::cli {

using client::Status;

void parse_server(const std::string& s, std::string* host, uint16_t* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw Failure(kExitUsage, "--server wants HOST:PORT, got '" + s + "'");
  *host = s.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  long p = std::strtol(s.c_str() + colon + 1, nullptr, 10);
  if (p <= 0 || p > 65535) throw Failure(kExitUsage, "bad port in --server '" + s + "'");
  *port = static_cast<uint16_t>(p);
}

client::Client& Context::connect(bool authenticate, bool follow) {
  auto saved = load_session();
  if (saved) session_ = *saved;
  // Without --server, talk to the server the saved session belongs to.
  std::string server = g_.server;
  if (!g_.server_given && saved && !saved->server.empty()) server = saved->server;
  g_.server = server;
  // Trust settings come with the saved session unless given again.
  if (saved && !g_.insecure && g_.ca_file.empty() && server == saved->server) {
    g_.insecure = saved->insecure;
    g_.ca_file = saved->ca_file;
  }
  if (authenticate && !saved)
    throw Failure(kExitSession,
                  "not logged in. Run: parley login --phone +15551234567 "
                  "(or parley register --phone ... --name ...).");

  client::Options o;
  parse_server(server, &o.host, &o.port);
  o.insecure = g_.insecure;
  o.ca_file = g_.ca_file;
  o.client_name = "parley-cli/0.1";
  o.auto_reconnect = follow;
  o.track_rooms = follow;
  client_ = std::make_unique<client::Client>(o);
  auto welcome = client_->connect();
  if (!welcome.ok()) {
    const std::string why = welcome.error;
    switch (client_->failure()) {
      case client::ConnectFailure::Unreachable:
        throw Failure(kExitConnect, "cannot reach the server at " + server + " (" + why +
                                        "). Is parleyd running there? Start it with "
                                        "scripts/start.sh or pass --server HOST:PORT.");
      case client::ConnectFailure::Certificate:
        throw Failure(kExitConnect,
                      "the server's TLS certificate is not trusted (" + why +
                          "). For the quick-start server pass --ca data/dev-cert.pem "
                          "(or --insecure to skip verification in development).");
      case client::ConnectFailure::Handshake:
        throw Failure(kExitConnect, "TLS handshake with " + server + " failed (" + why +
                                        "). Is this a parleyd TLS listener?");
      default:
        throw Failure(kExitConnect, "the server at " + server + " refused the connection (" +
                                        why + ").");
    }
  }
  if (!authenticate) return *client_;
  if (follow) {
    // Keep the saved session current when the client renews it on reconnect.
    // This runs on the client's I/O thread: report, never throw.
    client_->on_session([this](const client::Session& s) {
      try {
        save(s);
      } catch (const Failure& f) {
        std::fprintf(stderr, "parley: warning: %s\n", f.what());
      }
    });
  }
  auto r = client_->resume(saved->token, saved->refresh_token);
  if (r.status == Status::Unauthenticated && !saved->refresh_token.empty())
    r = client_->refresh(saved->refresh_token);
  if (r.status == Status::Unauthenticated) {
    forget_session();
    throw Failure(kExitSession, "your session has expired or was revoked. Log in again: parley login --phone " +
                                    (saved->phone.empty() ? std::string("PHONE") : saved->phone));
  }
  if (!r.ok()) refused(r.status, r.error, "resuming the session");
  save(r.value);
  load_contacts();
  return *client_;
}

void Context::save(const client::Session& s) {
  session_.server = g_.server;
  session_.insecure = g_.insecure;
  session_.ca_file = g_.ca_file;
  if (!g_.ca_file.empty()) {
    if (char* abs = ::realpath(g_.ca_file.c_str(), nullptr)) {
      session_.ca_file = abs;
      std::free(abs);
    }
  }
  session_.token = s.token;
  if (!s.refresh_token.empty()) session_.refresh_token = s.refresh_token;
  session_.token_expires_at = s.token_expires_at;
  session_.user_id = s.user.user_id;
  session_.phone = s.user.phone;
  session_.display_name = s.user.display_name;
  std::string error;
  if (!save_session(session_, &error)) throw Failure(kExitSession, error);
}

void Context::forget_session() { remove_session(); }

void Context::refused(Status s, const std::string& error, const std::string& what) {
  std::string advice;
  switch (s) {
    case Status::Unauthenticated: advice = " Log in again: parley login --phone PHONE."; break;
    case Status::PermissionDenied: advice = " You are not a member of that room."; break;
    case Status::NotFound: advice = " Check the id or phone number (see: parley rooms)."; break;
    case Status::AlreadyExists: advice = " Use parley login instead."; break;
    case Status::ResourceExhausted: advice = " Too many attempts; wait a few minutes."; break;
    case Status::Unimplemented: advice = " The server does not have that plugin loaded."; break;
    case Status::Disconnected:
    case Status::Timeout:
    case Status::Unavailable: advice = " Check that the server is running and try again."; break;
    default: break;
  }
  int code = s == Status::Disconnected || s == Status::Timeout ? kExitConnect : kExitRefused;
  throw Failure(code, what + " failed: " + client::status_name(s) +
                          (error.empty() ? "" : " (" + error + ")") + "." + advice);
}

void Context::load_contacts() {
  std::ifstream in(config_dir() + "/contacts.json");
  if (!in) return;
  std::stringstream ss;
  ss << in.rdbuf();
  if (auto m = parse_flat_json(ss.str())) contacts_ = *m;
}

void Context::remember(const client::User& u) {
  if (u.user_id.empty() || contacts_[u.user_id] == u.display_name) return;
  contacts_[u.user_id] = u.display_name;
  JsonObject o;
  for (const auto& [id, name] : contacts_) o.add(id, name);
  std::ofstream out(config_dir() + "/contacts.json", std::ios::trunc);
  out << o.str() << "\n";
}

client::User Context::find_user(const std::string& phone) {
  auto u = client_->find_user(phone);
  if (u.status == Status::NotFound)
    throw Failure(kExitRefused, "no user has the phone number " + phone +
                                    ". Check the number (E.164, e.g. +15551234567).");
  client::User user = check(std::move(u), "looking up " + phone);
  remember(user);
  return user;
}

std::string Context::name_of(const std::string& user_id) const {
  if (user_id == session_.user_id) return "you";
  auto it = contacts_.find(user_id);
  if (it != contacts_.end() && !it->second.empty()) return it->second;
  return user_id.size() > 6 ? "user-" + user_id.substr(user_id.size() - 6) : user_id;
}

std::string Context::room_title(const client::Room& r) const {
  if (r.kind == client::RoomKind::Group) return r.name;
  for (const auto& m : r.members)
    if (m.user_id != session_.user_id) return "@" + name_of(m.user_id);
  return "(direct)";
}

client::Room Context::resolve_room(const std::string& ref) {
  if (!ref.empty() && ref[0] == '+') {
    client::User peer = find_user(ref);
    return check(client_->open_direct(peer.user_id), "opening the direct room with " + ref);
  }
  auto rooms = check(client_->list_rooms(), "listing rooms");
  std::vector<client::Room> matches;
  for (const auto& r : rooms)
    if (r.room_id == ref) return r;
  for (const auto& r : rooms)
    if (r.room_id.rfind(ref, 0) == 0 || (r.kind == client::RoomKind::Group && r.name == ref) ||
        room_title(r) == ref || room_title(r) == "@" + ref)
      matches.push_back(r);
  if (matches.size() == 1) return matches.front();
  if (matches.empty())
    throw Failure(kExitRefused, "no room matches '" + ref +
                                    "'. Use a room id from `parley rooms`, a group name, or "
                                    "+PHONE for a direct chat.");
  throw Failure(kExitRefused, "'" + ref + "' matches " + std::to_string(matches.size()) +
                                  " rooms; use the full room id (see `parley rooms`).");
}

}  // namespace parley::cli
