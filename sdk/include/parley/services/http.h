/*
 * The `http` service, version 1: plain HTTP routes on the listener of the
 * plugin that provides it (the WebSocket bridge), so web clients and JSON
 * APIs share one port.
 *
 *   const parley_http_service_v1 *http =
 *       api().get_service(PARLEY_HTTP_SERVICE, PARLEY_HTTP_SERVICE_V1);
 *   http->add_route(self, "POST", "/api/v1/", PARLEY_HTTP_ROUTE_PREFIX, fn, ud);
 *
 * Rules (besides plugin.h's):
 *  - add_route: call from on_all_loaded (the provider is initialised then).
 *    Exact routes win over prefix routes; among prefix routes the longest
 *    prefix wins. A path that matches but whose method does not gets 405.
 *  - The handler runs on the loop thread. `req` and every string read from
 *    it are borrowed for the handler's duration only: copy what you keep.
 *  - `res` must be answered exactly once with respond(), during the handler
 *    or later on the loop thread. It is freed by respond(). A response for a
 *    client that has gone away is dropped silently (respond still returns 0).
 *  - Request bodies: Content-Length only (no chunked encoding), at most the
 *    provider's configured max_body_bytes (413 above it, before any handler).
 *  - The connection closes after each response (no keep-alive).
 *
 * Frozen once shipped: struct_size first, member order and meaning, the
 * reserved slots (append new members before them only by shrinking them).
 */
#ifndef PARLEY_SERVICES_HTTP_H
#define PARLEY_SERVICES_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARLEY_HTTP_SERVICE "http"
#define PARLEY_HTTP_SERVICE_V1 1u

/* add_route flags. */
#define PARLEY_HTTP_ROUTE_PREFIX 0x1u /* path is a prefix ("/api/v1/") */

typedef struct parley_http_request parley_http_request;   /* borrowed */
typedef struct parley_http_response parley_http_response; /* answer once */

typedef void (*parley_http_handler_fn)(const parley_http_request *req,
                                       parley_http_response *res, void *ud);

typedef struct parley_http_service_v1 {
  uint32_t struct_size;
  /* method: "GET", "POST", ... or "" for any. path starts with '/'.
   * EINVAL for a bad argument. */
  int (*add_route)(parley_plugin *self, const char *method, const char *path,
                   uint32_t flags, parley_http_handler_fn fn, void *ud);
  /* The request line's method ("POST"), path (no query) and raw query
   * (after '?', "" when none; not percent-decoded). */
  const char *(*request_method)(const parley_http_request *req);
  const char *(*request_path)(const parley_http_request *req);
  const char *(*request_query)(const parley_http_request *req);
  /* The first header with that name (case-insensitive), or NULL. */
  const char *(*request_header)(const parley_http_request *req,
                                const char *name);
  /* The body (possibly empty; never NULL) and its length. */
  const uint8_t *(*request_body)(const parley_http_request *req,
                                 size_t *len);
  /* The client's "ip:port". */
  const char *(*request_peer)(const parley_http_request *req);
  /* Answer: status 100..599, content_type (NULL: text/plain), body
   * (borrowed, may be NULL when len is 0), extra_headers: complete header
   * lines each ending in CRLF, or NULL. Frees res. */
  int (*respond)(parley_http_response *res, uint16_t status,
                 const char *content_type, const uint8_t *body, size_t len,
                 const char *extra_headers);
  void *reserved[8];
} parley_http_service_v1;

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_SERVICES_HTTP_H */
