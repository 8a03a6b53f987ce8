// A bounded least-recently-used map with stable value addresses, used for
// the room cache (rooms with their members and sequence state) and the
// recent-sends dedupe cache. Entries the owner still needs (a room with a
// commit in flight) are skipped by eviction through a predicate, so the
// cache may exceed its capacity while every entry is busy.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace parley::rooms_plugin {

template <class V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // The value for key, marked most recently used; nullptr if absent.
  V* find(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second.get();
  }
  // Without touching the recency order.
  V* peek(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : it->second->second.get();
  }

  // Inserts (or replaces) key as most recently used, then evicts the least
  // recently used entries for which can_evict(value) holds until the size is
  // back at capacity. The new entry itself is never evicted by this call.
  V* put(const std::string& key, std::unique_ptr<V> value,
         const std::function<bool(const V&)>& can_evict = nullptr) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
    } else {
      order_.emplace_front(key, std::move(value));
      index_[key] = order_.begin();
    }
    V* out = order_.front().second.get();
    evict(can_evict);
    return out;
  }

  bool erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    order_.erase(it->second);
    index_.erase(it);
    return true;
  }

  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void evict(const std::function<bool(const V&)>& can_evict) {
    if (order_.size() <= capacity_) return;
    // Walk from the least recently used end; never the front (newest).
    auto it = std::prev(order_.end());
    while (order_.size() > capacity_ && it != order_.begin()) {
      auto prev = std::prev(it);
      if (!can_evict || can_evict(*it->second)) {
        index_.erase(it->first);
        order_.erase(it);
      }
      it = prev;
    }
  }

  using Entry = std::pair<std::string, std::unique_ptr<V>>;
  size_t capacity_;
  std::list<Entry> order_;
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace parley::rooms_plugin
