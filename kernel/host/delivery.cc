#include "delivery.h"

#include <algorithm>
#include <cstring>

#include "parley/plugin.h"

namespace parley::kernel::host {

int Delivery::bind(ConnId conn, std::string_view previous, std::string_view user_id) {
  // A copy: `previous` is usually the connection's own ConnInfo::user_id,
  // which set_user overwrites.
  const std::string was(previous);
  int rc = core_.set_user(conn, user_id);
  if (rc != PARLEY_OK) return rc;
  drop(conn, was);
  if (!user_id.empty()) {
    auto it = by_user_.find(user_id);
    if (it == by_user_.end()) it = by_user_.emplace(std::string(user_id), ConnList{}).first;
    it->second.push_back(conn);
  }
  ++generation_;
  return PARLEY_OK;
}

void Delivery::drop(ConnId conn, std::string_view user) {
  if (user.empty()) return;
  auto it = by_user_.find(user);
  if (it == by_user_.end()) return;
  ConnList& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), conn), list.end());
  if (list.empty()) by_user_.erase(it);
  ++generation_;
}

void Delivery::append_conns(const char* user, ConnList& out) const {
  if (!user || !*user) return;
  auto it = by_user_.find(std::string_view(user));
  if (it != by_user_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
}

bool Delivery::same_list(const Resolved& r, const char* const* user_ids, size_t n) {
  if (r.ids != user_ids || r.n != n || !r.conns) return false;
  // The caller may have rebuilt its array at the same address: compare the
  // pointers and what they point to.
  if (std::memcmp(r.ptrs.data(), user_ids, n * sizeof(const char*)) != 0) return false;
  for (size_t i = 0; i < n; i++) {
    const char* u = user_ids[i];
    if (!u) {
      if (!r.users[i].empty()) return false;
      continue;
    }
    if (std::strcmp(u, r.users[i].c_str()) != 0) return false;
  }
  return true;
}

std::shared_ptr<const Delivery::ConnList> Delivery::resolve(const char* const* user_ids,
                                                            size_t n) {
  Resolved* slot = nullptr;
  for (Resolved& r : cache_) {
    if (r.ids == user_ids && r.n == n) {
      if (r.generation == generation_ && same_list(r, user_ids, n)) {
        ++hits_;
        return r.conns;
      }
      slot = &r;  // same caller list, stale: rebuild in place
      break;
    }
  }
  ++misses_;
  if (!slot) {
    slot = &cache_[next_victim_];
    next_victim_ = (next_victim_ + 1) % cache_.size();
  }
  auto conns = std::make_shared<ConnList>();
  conns->reserve(n);
  for (size_t i = 0; i < n; i++) append_conns(user_ids[i], *conns);
  slot->ids = user_ids;
  slot->n = n;
  slot->generation = generation_;
  slot->ptrs.assign(user_ids, user_ids + n);
  slot->users.resize(n);
  for (size_t i = 0; i < n; i++) slot->users[i].assign(user_ids[i] ? user_ids[i] : "");
  slot->conns = conns;
  return conns;
}

int64_t Delivery::to_users(const char* const* user_ids, size_t n, const FramePtr& frame,
                           ConnId except) {
  if (n == 0 || !frame) return 0;
  int64_t total = 0;
  if (n < kMinCachedList) {
    ConnList conns;
    for (size_t i = 0; i < n; i++) append_conns(user_ids[i], conns);
    for (ConnId c : conns)
      if (c != except && core_.queue(c, frame)) ++total;
    return total;
  }
  // Held by this call: a slow consumer closed during queue() changes the
  // index (and may rebuild the cache slot) under our feet.
  std::shared_ptr<const ConnList> conns = resolve(user_ids, n);
  for (ConnId c : *conns)
    if (c != except && core_.queue(c, frame)) ++total;
  return total;
}

}  // namespace parley::kernel::host
