// The exported `rooms` service v1 (sdk/include/parley/services/rooms.h).
#pragma once

#include "parley/services/rooms.h"

namespace parley::rooms_plugin {

// The vtable, whose functions reach the plugin through
// RoomsPlugin::instance().
parley_rooms_v1 make_rooms_service();

}  // namespace parley::rooms_plugin
