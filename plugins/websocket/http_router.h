// Plain HTTP routes on the bridge's listener (/healthz, /metrics, static
// files). Handlers answer through a Respond callback, possibly later (after
// worker-pool work), so an `http` SDK service (issue 12) can register
// asynchronous routes here without touching the session code.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http_request.h"

namespace parley::websocket {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string extra_headers;  // complete header lines, each ending in CRLF
};

// Answers the request at most once, on the loop thread; a response for a
// connection that is gone by then is dropped.
using Respond = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(const HttpRequest&, Respond)>;

class HttpRouter {
 public:
  // An exact path; method "" matches any method.
  void add(std::string method, std::string path, HttpHandler handler);
  // Every path starting with `prefix` that no exact route matched.
  void add_prefix(std::string method, std::string prefix, HttpHandler handler);
  // Dispatches `req`; answers 404 / 405 itself when nothing matches.
  void dispatch(const HttpRequest& req, const Respond& respond) const;

 private:
  struct Route {
    std::string method, path;
    bool prefix = false;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace parley::websocket
