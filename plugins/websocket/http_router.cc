#include "http_router.h"

#include <algorithm>

namespace parley::websocket {

void HttpRouter::add(std::string method, std::string path, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(handler)});
}

void HttpRouter::add_prefix(std::string method, std::string prefix, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(handler)});
}

void HttpRouter::dispatch(const HttpRequest& req, const Respond& respond) const {
  bool path_matched = false;
  // Exact routes win over prefixes; among prefixes the longest wins (so an
  // API prefix registered through the http service is not shadowed by the
  // static files' "/").
  std::vector<const Route*> candidates;
  for (const auto& r : routes_)
    if (!r.prefix && req.path == r.path) candidates.push_back(&r);
  if (candidates.empty()) {
    for (const auto& r : routes_)
      if (r.prefix && req.path.compare(0, r.path.size(), r.path) == 0) candidates.push_back(&r);
    std::stable_sort(candidates.begin(), candidates.end(), [](const Route* a, const Route* b) {
      return a->path.size() > b->path.size();
    });
  }
  for (const Route* r : candidates) {
    // Only the most specific matching path decides between handler and 405.
    if (path_matched && r->path.size() != candidates.front()->path.size()) break;
    path_matched = true;
    // HEAD is not offered; GET routes answer GET only.
    if (!r->method.empty() && r->method != req.method) continue;
    r->handler(req, respond);
    return;
  }
  HttpResponse res;
  res.status = path_matched ? 405 : 404;
  res.body = path_matched ? "method not allowed\n" : "not found\n";
  respond(std::move(res));
}

}  // namespace parley::websocket
