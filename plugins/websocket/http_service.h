// The `http` SDK service v1 (sdk/include/parley/services/http.h): lets other
// plugins add routes to this listener's HttpRouter.
#pragma once

#include <parley/services/http.h>

#include <memory>

namespace parley::websocket {

struct Shared;

// The vtable to export; routes go to `shared`'s router. One bridge per
// process: a later bind replaces the earlier one.
const parley_http_service_v1* http_service(const std::shared_ptr<Shared>& shared);

}  // namespace parley::websocket
