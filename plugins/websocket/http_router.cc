#include "http_router.h"

namespace parley::websocket {

void HttpRouter::add(std::string method, std::string path, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
}

void HttpRouter::add_prefix(std::string method, std::string prefix, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(handler)});
}

void HttpRouter::dispatch(const HttpRequest& req, const Respond& respond) const {
  bool path_matched = false;
  // Exact routes win over prefixes.
  for (bool prefix : {false, true}) {
    for (const auto& r : routes_) {
      if (r.prefix != prefix) continue;
      bool match = prefix ? req.path.compare(0, r.path.size(), r.path) == 0 : req.path == r.path;
      if (!match) continue;
      path_matched = true;
      // HEAD is not offered; GET routes answer GET only.
      if (!r.method.empty() && r.method != req.method) continue;
      r.handler(req, respond);
      return;
    }
    if (path_matched) break;
  }
  HttpResponse res;
  res.status = path_matched ? 405 : 404;
  res.body = path_matched ? "method not allowed\n" : "not found\n";
  respond(std::move(res));
}

}  // namespace parley::websocket
