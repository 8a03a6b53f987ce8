// Request payload builders for the methods without a public codec:: builder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::client::requests {
std::vector<uint8_t> register_user(const std::string& phone, const std::string& password,
                                   const std::string& display_name);
std::vector<uint8_t> login(const std::string& phone, const std::string& password);
std::vector<uint8_t> resume(const std::string& token);
std::vector<uint8_t> refresh(const std::string& refresh_token);
std::vector<uint8_t> find_user(const std::string& phone);
std::vector<uint8_t> profile(const std::string& display_name);
std::vector<uint8_t> open_direct(const std::string& peer_user_id);
std::vector<uint8_t> create(const std::string& name, const std::vector<std::string>& members);
std::vector<uint8_t> room_ref(const std::string& room_id);
std::vector<uint8_t> add_members(const std::string& room_id,
                                 const std::vector<std::string>& user_ids);
std::vector<uint8_t> remove_member(const std::string& room_id, const std::string& user_id);
std::vector<uint8_t> typing(const std::string& room_id, bool typing);
std::vector<uint8_t> mark(const std::string& room_id, uint64_t seq);
std::vector<uint8_t> receipts_ref(const std::string& room_id);
}  // namespace parley::client::requests
