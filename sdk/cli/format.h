// Human-readable output (aligned tables, relative times) and --json objects
// with the protocol's field names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parley/client/types.hpp"

namespace parley::cli {

uint64_t now_ms();
// "just now", "42s ago", "5m ago", "3h ago", "2d ago"; "-" for 0.
std::string relative_time(uint64_t epoch_ms);
// Local wall-clock "HH:MM".
std::string clock_time(uint64_t epoch_ms);

// Columns padded to their widest cell (counting UTF-8 code points).
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string json_of(const client::User& u);
std::string json_of(const client::Room& r);
std::string json_of(const client::Message& m);
std::string json_of(const client::Unread& u);
std::string json_of(const client::Receipt& r);
const char* kind_name(client::RoomKind k);
const char* role_name(client::Role r);

}  // namespace parley::cli
