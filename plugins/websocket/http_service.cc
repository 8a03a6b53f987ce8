// The `http` service: C handles over HttpRequest and the Respond callback.
#include "http_service.h"

#include <parley/plugin.hpp>

#include <cctype>
#include <cstring>
#include <string>

#include "shared.h"

// The opaque handles of http.h, defined here (global namespace, as declared).
struct parley_http_request {
  const parley::websocket::HttpRequest* req;
};
struct parley_http_response {
  parley::websocket::Respond respond;
};

namespace parley::websocket {
namespace {

std::weak_ptr<Shared> g_shared;  // the loop thread only

int add_route(parley_plugin*, const char* method, const char* path, uint32_t flags,
              parley_http_handler_fn fn, void* ud) {
  auto shared = g_shared.lock();
  if (!shared) return PARLEY_EUNAVAIL;
  if (!method || !path || path[0] != '/' || !fn || (flags & ~PARLEY_HTTP_ROUTE_PREFIX))
    return PARLEY_EINVAL;
  HttpHandler h = [fn, ud](const HttpRequest& req, Respond respond) {
    parley_http_request r{&req};
    // Freed by respond() (the handler's obligation, see http.h).
    auto* res = new parley_http_response{std::move(respond)};
    fn(&r, res, ud);
  };
  if (flags & PARLEY_HTTP_ROUTE_PREFIX) shared->router.add_prefix(method, path, std::move(h));
  else shared->router.add(method, path, std::move(h));
  return 0;
}

const char* request_method(const parley_http_request* r) { return r->req->method.c_str(); }
const char* request_path(const parley_http_request* r) { return r->req->path.c_str(); }
const char* request_query(const parley_http_request* r) { return r->req->query.c_str(); }
const char* request_peer(const parley_http_request* r) { return r->req->peer.c_str(); }

const char* request_header(const parley_http_request* r, const char* name) {
  if (!name) return nullptr;
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [k, v] : r->req->headers)
    if (k == lower) return v.c_str();
  return nullptr;
}

const uint8_t* request_body(const parley_http_request* r, size_t* len) {
  if (len) *len = r->req->body.size();
  return reinterpret_cast<const uint8_t*>(r->req->body.data());
}

int respond(parley_http_response* res, uint16_t status, const char* content_type,
            const uint8_t* body, size_t len, const char* extra_headers) {
  if (!res) return PARLEY_EINVAL;
  std::unique_ptr<parley_http_response> owned(res);
  HttpResponse out;
  out.status = status < 100 || status > 599 ? 500 : status;
  if (content_type) out.content_type = content_type;
  if (body && len) out.body.assign(reinterpret_cast<const char*>(body), len);
  if (extra_headers) out.extra_headers = extra_headers;
  owned->respond(std::move(out));
  return 0;
}

const parley_http_service_v1 kService = {
    sizeof(parley_http_service_v1), add_route, request_method, request_path, request_query,
    request_header, request_body, request_peer, respond, {}};

}  // namespace

const parley_http_service_v1* http_service(const std::shared_ptr<Shared>& shared) {
  g_shared = shared;
  return &kService;
}

}  // namespace parley::websocket
