// The `http_api` plugin (docs/http-api.md): every method listed in a
// `<plugin>.methods.json` reachable as JSON over HTTP, on the websocket
// bridge's listener through the `http` service. SDK glue and HTTP mapping
// only; the conversion is schema_registry.cc, the calls call_runner.cc.
#include <dlfcn.h>

#include <parley/plugin.hpp>
#include <parley/services/http.h>

#include <filesystem>
#include <memory>
#include <set>

#include "call_runner.h"
#include "openapi.h"
#include "rest_routes.h"
#include "schema_registry.h"

namespace parley::http_api {
namespace {

constexpr const char* kJson = "application/json";

const char* status_name(uint16_t s) {
  static const char* names[] = {"Ok", "InvalidArgument", "Unauthenticated", "PermissionDenied",
                                "NotFound", "AlreadyExists", "ResourceExhausted",
                                "FailedPrecondition", "Unimplemented", "Unavailable", "Internal",
                                "Malformed", "FrameTooLarge", "Timeout"};
  return s < sizeof names / sizeof names[0] ? names[s] : "Internal";
}

uint16_t http_status(uint16_t s) {
  switch (s) {
    case PARLEY_STATUS_OK: return 200;
    case PARLEY_STATUS_INVALID_ARGUMENT: return 400;
    case PARLEY_STATUS_UNAUTHENTICATED: return 401;
    case PARLEY_STATUS_PERMISSION_DENIED: return 403;
    case PARLEY_STATUS_NOT_FOUND: return 404;
    case PARLEY_STATUS_ALREADY_EXISTS: return 409;
    case PARLEY_STATUS_RESOURCE_EXHAUSTED: return 429;
    case PARLEY_STATUS_FAILED_PRECONDITION: return 409;
    case PARLEY_STATUS_UNIMPLEMENTED: return 404;
    case PARLEY_STATUS_UNAVAILABLE: return 503;
    case PARLEY_STATUS_MALFORMED: return 400;
    case PARLEY_STATUS_FRAME_TOO_LARGE: return 413;
    case PARLEY_STATUS_TIMEOUT: return 504;
    default: return 500;
  }
}

// The directory holding this .so: lib/parley/plugins → share/parley/schemas.
std::string default_schema_dir() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&default_schema_dir), &info) || !info.dli_fname) return "";
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path so = fs::canonical(info.dli_fname, ec);
  if (ec) return "";
  return (so.parent_path().parent_path().parent_path().parent_path() / "share" / "parley" /
          "schemas")
      .string();
}

class HttpApiPlugin : public parley::Plugin {
 public:
  static constexpr const char* kName = "http_api";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kRequires[] = {PARLEY_HTTP_SERVICE, nullptr};

  void init(const parley::Config& cfg) override {
    cfg.declare_keys({"schema_dir", "prefix", "call_timeout_ms"});
    schema_dir_ = cfg.str("schema_dir", "");
    if (schema_dir_.empty()) schema_dir_ = default_schema_dir();
    prefix_ = cfg.str("prefix", "/api/v1/");
    if (prefix_.empty() || prefix_.front() != '/' || prefix_.back() != '/')
      throw parley::ConfigError("plugins.http_api.config.prefix must start and end with '/'");
    timeout_ms_ = static_cast<uint64_t>(cfg.integer("call_timeout_ms", 10000, 1, 600000));
    std::string err = registry_.load_dir(schema_dir_);
    if (!err.empty()) throw parley::ConfigError("plugins.http_api: " + err);
    m_requests_ = counter("requests_total", "HTTP API requests handled");
  }

  void on_all_loaded() override {
    http_ = service<parley_http_service_v1>(PARLEY_HTTP_SERVICE, PARLEY_HTTP_SERVICE_V1);
    if (!http_ || http_->struct_size < sizeof(parley_http_service_v1))
      throw std::runtime_error("the http service v1 is not available");
    runner_ = std::make_unique<CallRunner>(self(), timeout_ms_);
    int rc = http_->add_route(self(), "", prefix_.c_str(), PARLEY_HTTP_ROUTE_PREFIX,
                              [](const parley_http_request* req, parley_http_response* res,
                                 void* ud) { static_cast<HttpApiPlugin*>(ud)->handle(req, res); },
                              this);
    if (rc != 0) throw std::runtime_error("http add_route failed");
    info("serving %zu methods under %s (schemas: %s)", registry_.methods().size(), prefix_.c_str(),
         schema_dir_.c_str());
  }

  ~HttpApiPlugin() override { runner_.reset(); }

 private:
  void reply_json(parley_http_response* res, uint16_t status, const std::string& body) {
    http_->respond(res, status, kJson, reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                   nullptr);
  }
  void reply_error(parley_http_response* res, uint16_t http, const char* status,
                   const std::string& error) {
    reply_json(res, http,
               std::string("{\"status\":") + json_string(status) + ",\"error\":" +
                   json_string(error) + "}\n");
  }

  void handle(const parley_http_request* req, parley_http_response* res) {
    m_requests_.add();
    std::string method = http_->request_method(req);
    std::string path = http_->request_path(req);
    std::string rest = path.substr(prefix_.size());
    if (rest == "openapi.json") {
      if (method != "GET") return reply_error(res, 405, "InvalidArgument", "use GET");
      // Ask the kernel which methods are registered (the hello's Welcome),
      // so the document lists exactly what this server runs.
      runner_->run(http_->request_peer(req), "", "sys.ping", {}, [this, res](CallResult r) {
        if (r.status != PARLEY_STATUS_OK)
          return reply_error(res, http_status(r.status), status_name(r.status), r.error);
        std::set<std::string> loaded(r.server_methods.begin(), r.server_methods.end());
        reply_json(res, 200, openapi_document(registry_, prefix_, loaded));
      });
      return;
    }
    size_t body_len = 0;
    const uint8_t* body_bytes = http_->request_body(req, &body_len);
    std::string body(reinterpret_cast<const char*>(body_bytes), body_len);
    if (body_len > 0) {
      const char* ct = http_->request_header(req, "content-type");
      std::string type = ct ? ct : "";
      type = type.substr(0, type.find(';'));
      while (!type.empty() && type.back() == ' ') type.pop_back();
      for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (type != "application/json")
        return reply_error(res, 415, "InvalidArgument",
                           "Content-Type must be application/json");
    }
    std::string rpc, json;
    if (rest.rfind("call/", 0) == 0) {
      if (method != "POST") return reply_error(res, 405, "InvalidArgument", "use POST");
      rpc = rest.substr(5);
      json = body;
    } else {
      bool path_known = false;
      // The REST table is written against /api/v1/; the prefix is configurable.
      auto m = match_rest(method, "/api/v1/" + rest, &path_known);
      if (!m) {
        if (path_known) return reply_error(res, 405, "InvalidArgument", "method not allowed");
        return reply_error(res, 404, "NotFound", "no route " + method + " " + path);
      }
      rpc = m->route->method;
      std::string why;
      auto built = build_request_json(*m, http_->request_query(req), body, &why);
      if (!built) return reply_error(res, 400, "InvalidArgument", why);
      json = *built;
    }
    const MethodInfo* info = registry_.find(rpc);
    if (!info) return reply_error(res, 404, "Unimplemented", "unknown method " + rpc);
    std::vector<uint8_t> payload;
    std::string why;
    if (!registry_.json_to_request(*info, json, &payload, &why))
      return reply_error(res, 400, "InvalidArgument", "invalid JSON for " + rpc + ": " + why);
    std::string token;
    if (const char* a = http_->request_header(req, "authorization")) {
      std::string auth = a;
      if (auth.rfind("Bearer ", 0) != 0 || auth.size() <= 7)
        return reply_error(res, 401, "Unauthenticated", "Authorization must be 'Bearer <token>'");
      token = auth.substr(7);
    }
    runner_->run(http_->request_peer(req), token, rpc, std::move(payload),
                 [this, res, info](CallResult r) {
                   if (r.status != PARLEY_STATUS_OK)
                     return reply_error(res, http_status(r.status), status_name(r.status),
                                        r.error);
                   std::string out, err;
                   if (!registry_.response_to_json(*info, r.payload.data(), r.payload.size(),
                                                   &out, &err))
                     return reply_error(res, 500, "Internal", err);
                   reply_json(res, 200, out + "\n");
                 });
  }

  SchemaRegistry registry_;
  std::string schema_dir_, prefix_;
  uint64_t timeout_ms_ = 10000;
  const parley_http_service_v1* http_ = nullptr;
  std::unique_ptr<CallRunner> runner_;
  parley::Metric m_requests_;
};

}  // namespace
}  // namespace parley::http_api

PARLEY_PLUGIN(parley::http_api::HttpApiPlugin)
