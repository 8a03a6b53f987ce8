#include "bus.h"

#include <memory>

namespace parley::kernel::host {

int Bus::on_topic(parley_plugin* plugin, const char* topic, parley_topic_fn cb, void* ud) {
  if (!plugin || !topic || !*topic || !cb) return PARLEY_EINVAL;
  subs_.push_back(Sub{next_id_++, topic, plugin, cb, ud});
  return 0;
}

int Bus::publish(parley_plugin* plugin, const char* topic, const uint8_t* bytes, size_t len) {
  if (!plugin || !topic || !*topic || (!bytes && len)) return PARLEY_EINVAL;
  struct Message {
    std::string topic;
    std::vector<uint8_t> bytes;
  };
  auto msg = std::make_shared<const Message>(Message{topic, std::vector<uint8_t>(bytes, bytes + len)});
  if (!queue_.post([this, msg] { deliver(msg->topic, msg->bytes); })) return PARLEY_EUNAVAIL;
  return 0;
}

void Bus::remove_all(const parley_plugin* plugin) {
  std::erase_if(subs_, [&](const Sub& s) { return s.plugin == plugin; });
}

void Bus::deliver(const std::string& topic, const std::vector<uint8_t>& bytes) {
  std::vector<uint64_t> ids;
  for (const Sub& s : subs_)
    if (s.topic == topic) ids.push_back(s.id);
  for (uint64_t id : ids) {
    const Sub* found = nullptr;
    for (const Sub& s : subs_)
      if (s.id == id) found = &s;
    if (!found || !found->plugin->live()) continue;
    Sub copy = *found;  // the callback may subscribe more (vector may grow)
    copy.cb(copy.topic.c_str(), bytes.data(), bytes.size(), copy.ud);
  }
}

}  // namespace parley::kernel::host
