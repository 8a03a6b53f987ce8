// The `websocket` plugin (PROTOCOL.md §8): its own listener on the kernel's
// loop; each upgraded session becomes a kernel virtual connection. The same
// listener answers /healthz, /metrics and static files. SDK glue only; the
// protocol work is in session.cc, handshake.cc and http_request.cc.
#include <parley/plugin.hpp>

#include <filesystem>
#include <memory>

#include "http_service.h"
#include "session.h"
#include "shared.h"
#include "static_files.h"

namespace parley::websocket {

class WebSocketPlugin : public parley::Plugin {
 public:
  static constexpr const char* kName = "websocket";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kProvides[] = {PARLEY_HTTP_SERVICE, nullptr};

  ~WebSocketPlugin() override { stop(); }

  void init(const parley::Config& cfg) override {
    cfg.declare_keys({"address", "port", "cert", "key", "path", "allowed_origins",
                      "max_frame_bytes", "ping_interval_ms", "handshake_timeout_ms",
                      "idle_timeout_ms", "close_timeout_ms", "static_dir", "max_header_bytes",
                      "max_headers", "max_request_line_bytes", "max_body_bytes"});
    shared_ = std::make_shared<Shared>();
    shared_->self = self();
    shared_->loop = static_cast<uv_loop_t*>(api().loop());
    read_config(cfg);
    register_routes();
    shared_->m_open = gauge("sessions_open", "open TCP connections on the bridge's listener").id();
    shared_->m_upgrades = counter("upgrades_total", "WebSocket upgrades accepted").id();
    shared_->m_refused = counter("refused_total", "HTTP requests or upgrades refused with 4xx").id();
    shared_->m_http = counter("http_requests_total", "HTTP request heads parsed").id();
    listen();
    export_service(PARLEY_HTTP_SERVICE, PARLEY_HTTP_SERVICE_V1, http_service(shared_));
  }

 private:
  void read_config(const parley::Config& cfg) {
    Settings& s = shared_->settings;
    s.address = cfg.str("address", "127.0.0.1");
    s.port = static_cast<int>(cfg.integer("port", 8080, 0, 65535));
    s.path = cfg.str("path", "/ws");
    if (s.path.empty() || s.path.front() != '/')
      throw parley::ConfigError("plugins.websocket.config.path must start with '/'");
    uint64_t kernel_max = api().limit_max_frame_bytes();
    s.max_frame_bytes = static_cast<uint64_t>(cfg.integer(
        "max_frame_bytes", static_cast<int64_t>(kernel_max), 8, static_cast<int64_t>(kernel_max)));
    s.ping_interval_ms = static_cast<uint64_t>(cfg.integer("ping_interval_ms", 30000, 0, 86400000));
    s.handshake_timeout_ms =
        static_cast<uint64_t>(cfg.integer("handshake_timeout_ms", 10000, 1, 3600000));
    s.idle_timeout_ms = static_cast<uint64_t>(cfg.integer("idle_timeout_ms", 120000, 1, 86400000));
    s.close_timeout_ms = static_cast<uint64_t>(cfg.integer("close_timeout_ms", 2000, 1, 600000));
    s.max_body_bytes =
        static_cast<uint64_t>(cfg.integer("max_body_bytes", 1 << 20, 0, int64_t{1} << 30));
    HttpLimits& l = shared_->limits;
    l.max_header_bytes = static_cast<size_t>(cfg.integer("max_header_bytes", 8192, 256, 1 << 20));
    l.max_headers = static_cast<size_t>(cfg.integer("max_headers", 64, 4, 1024));
    l.max_request_line = static_cast<size_t>(
        cfg.integer("max_request_line_bytes", 4096, 16, static_cast<int64_t>(l.max_header_bytes)));
    size_t n = cfg.list_size("allowed_origins");
    for (size_t i = 0; i < n; ++i) {
      std::string o = cfg.str(("allowed_origins." + std::to_string(i)).c_str(), "");
      if (o == "*") shared_->origins.any = true;
      else if (!o.empty()) shared_->origins.allowed.push_back(o);
    }
    std::string dir = cfg.str("static_dir", "");
    if (!dir.empty()) {
      std::error_code ec;
      auto canon = std::filesystem::canonical(dir, ec);
      if (ec || !std::filesystem::is_directory(canon))
        throw parley::ConfigError("plugins.websocket.config.static_dir: not a directory: " + dir);
      s.static_dir = canon.string();
    }
    std::string cert = cfg.str("cert", ""), key = cfg.str("key", "");
    if (cert.empty() != key.empty())
      throw parley::ConfigError("plugins.websocket.config: cert and key go together");
    if (!cert.empty()) {
      std::string error;
      shared_->tls = make_tls_context(cert, key, &error);
      if (!shared_->tls) throw parley::ConfigError("plugins.websocket.config: " + error);
    }
  }

  void register_routes() {
    HttpRouter& r = shared_->router;
    r.add("GET", "/healthz", [](const HttpRequest&, Respond respond) {
      respond({200, "text/plain; charset=utf-8", "ok\n", ""});
    });
    r.add("GET", "/metrics", [](const HttpRequest&, Respond respond) {
      std::string text;
      api().metrics_render(
          [](const char* t, size_t len, void* ud) { static_cast<std::string*>(ud)->assign(t, len); },
          &text);
      respond({200, "text/plain; version=0.0.4; charset=utf-8", std::move(text), ""});
    });
    if (!shared_->settings.static_dir.empty()) {
      r.add_prefix("GET", "/", [this](const HttpRequest& req, Respond respond) {
        serve_static(req, std::move(respond));
      });
    }
  }

  // Disk reads run on the worker pool (never on the loop).
  void serve_static(const HttpRequest& req, Respond respond) {
    std::string root = shared_->settings.static_dir;
    auto path = static_path(root, req.path);
    if (!path) return respond({404, "text/plain; charset=utf-8", "not found\n", ""});
    struct Job {
      std::string root, path;
      size_t max;
      std::optional<std::string> body;
    };
    auto job = std::make_shared<Job>(Job{root, *path, shared_->settings.max_static_file_bytes, {}});
    queue_work([job] { job->body = read_static_file(job->root, job->path, job->max); },
               [job, respond](int status) {
                 if (status != 0 || !job->body)
                   return respond({404, "text/plain; charset=utf-8", "not found\n", ""});
                 respond({200, std::string(content_type_for(job->path)), std::move(*job->body), ""});
               });
  }

  void listen() {
    const Settings& s = shared_->settings;
    sockaddr_storage addr{};
    std::string host = s.address == "localhost" ? "127.0.0.1" : s.address;
    int rc = host.find(':') != std::string::npos
                 ? uv_ip6_addr(host.c_str(), s.port, reinterpret_cast<sockaddr_in6*>(&addr))
                 : uv_ip4_addr(host.c_str(), s.port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) throw parley::ConfigError("plugins.websocket.config.address: invalid: " + s.address);
    listener_ = new Listener;
    listener_->shared = shared_;
    uv_tcp_init(shared_->loop, &listener_->tcp);
    listener_->tcp.data = listener_;
    if ((rc = uv_tcp_bind(&listener_->tcp, reinterpret_cast<sockaddr*>(&addr), 0)) != 0 ||
        (rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_->tcp), 511,
                        [](uv_stream_t* server, int status) {
                          auto* l = static_cast<Listener*>(server->data);
                          if (status == 0) Session::accept(l->shared, server);
                        })) != 0) {
      std::string why = uv_strerror(rc);
      close_listener();
      throw std::runtime_error("cannot listen on " + s.address + ":" + std::to_string(s.port) + ": " +
                          why);
    }
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&listener_->tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    unsigned port = ntohs(bound.ss_family == AF_INET6
                              ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    // Same shape as the kernel's listener lines (tests and scripts parse it).
    info("listening name=websocket address=%s port=%u tls=%s path=%s", s.address.c_str(), port,
         shared_->tls ? "on" : "off", s.path.c_str());
  }

  void close_listener() {
    if (!listener_) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_->tcp),
             [](uv_handle_t* h) { delete static_cast<Listener*>(h->data); });
    listener_ = nullptr;
  }

  // Shutdown: the kernel has ended every virtual connection already; close
  // the listener and drop what is left. The handles finish closing on the
  // kernel's last loop pass (the library is still mapped then).
  void stop() {
    if (!shared_) return;
    close_listener();
    std::vector<Session*> left;
    for (auto& [id, s] : shared_->sessions) left.push_back(s);
    for (Session* s : left) s->close_now();
    shared_->self = nullptr;
  }

  struct Listener {
    uv_tcp_t tcp{};
    std::shared_ptr<Shared> shared;
  };
  std::shared_ptr<Shared> shared_;
  Listener* listener_ = nullptr;
};

}  // namespace parley::websocket

PARLEY_PLUGIN(parley::websocket::WebSocketPlugin)
