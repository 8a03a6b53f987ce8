// The CLI's saved session: $XDG_CONFIG_HOME/parley/session.json (falling back
// to ~/.config/parley/), written with mode 0600 (it holds bearer tokens).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace parley::cli {

struct SavedSession {
  std::string server;  // HOST:PORT it belongs to
  // How that server's certificate was trusted, reused by later commands.
  std::string ca_file;  // absolute path, or empty
  bool insecure = false;
  std::string token, refresh_token;
  uint64_t token_expires_at = 0;
  std::string user_id, phone, display_name;
};

std::string config_dir();
std::string session_path();
std::optional<SavedSession> load_session();
// Writes atomically (temp file + rename), creating the directory (0700).
bool save_session(const SavedSession& s, std::string* error);
void remove_session();

}  // namespace parley::cli
