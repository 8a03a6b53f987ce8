#include "session_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "json.h"

namespace parley::cli {

std::string config_dir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/parley";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/parley";
}

std::string session_path() { return config_dir() + "/session.json"; }

std::optional<SavedSession> load_session() {
  std::ifstream in(session_path());
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = parse_flat_json(ss.str());
  if (!m) return std::nullopt;
  SavedSession s;
  s.server = (*m)["server"];
  s.ca_file = (*m)["ca_file"];
  s.insecure = (*m)["insecure"] == "true";
  s.token = (*m)["token"];
  s.refresh_token = (*m)["refresh_token"];
  s.token_expires_at = std::strtoull((*m)["token_expires_at"].c_str(), nullptr, 10);
  s.user_id = (*m)["user_id"];
  s.phone = (*m)["phone"];
  s.display_name = (*m)["display_name"];
  if (s.token.empty()) return std::nullopt;
  return s;
}

static bool make_dirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string part = path.substr(0, i);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return false;
    }
  }
  return true;
}

bool save_session(const SavedSession& s, std::string* error) {
  const std::string dir = config_dir();
  if (!make_dirs(dir)) {
    *error = "cannot create " + dir + ": " + std::strerror(errno);
    return false;
  }
  const std::string body = JsonObject()
                               .add("server", s.server)
                               .add("ca_file", s.ca_file)
                               .add("insecure", s.insecure)
                               .add("token", s.token)
                               .add("refresh_token", s.refresh_token)
                               .add("token_expires_at", s.token_expires_at)
                               .add("user_id", s.user_id)
                               .add("phone", s.phone)
                               .add("display_name", s.display_name)
                               .str() +
                           "\n";
  // Per process: a `tail` and a `chat` may save at the same time.
  const std::string tmp = session_path() + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), session_path().c_str()) != 0) {
    *error = "cannot write " + session_path() + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

void remove_session() { ::unlink(session_path().c_str()); }

}  // namespace parley::cli
