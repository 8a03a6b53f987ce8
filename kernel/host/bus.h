// The plugin bus (SDK publish/on_topic): facts one plugin announces and
// others react to. Delivery is asynchronous, in publish order, through the
// LoopQueue; the payload is copied once and shared by every subscriber.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loop_queue.h"
#include "plugin_record.h"

namespace parley::kernel::host {

class Bus {
 public:
  explicit Bus(LoopQueue& queue) : queue_(queue) {}
  int on_topic(parley_plugin* plugin, const char* topic, parley_topic_fn cb, void* ud);
  // PARLEY_EUNAVAIL once the host is stopping.
  int publish(parley_plugin* plugin, const char* topic, const uint8_t* bytes, size_t len);
  void remove_all(const parley_plugin* plugin);

 private:
  struct Sub {
    uint64_t id;
    std::string topic;
    parley_plugin* plugin;
    parley_topic_fn cb;
    void* ud;
  };
  void deliver(const std::string& topic, const std::vector<uint8_t>& bytes);

  LoopQueue& queue_;
  std::vector<Sub> subs_;
  uint64_t next_id_ = 1;
};

}  // namespace parley::kernel::host
