// parleyd: loads the configuration, starts the plugin host and the
// listeners, runs the loop until SIGINT/SIGTERM, then shuts down gracefully.
//
// Exit codes: 0 clean shutdown (and --check-config ok), 1 configuration or
// start-up error, 2 the plugin host refused to start.
#include <uv.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "config.h"
#include "host/plugin_host.h"
#include "log.h"
#include "server.h"

namespace {

using parley::kernel::Config;

constexpr char kUsage[] =
    "usage: parleyd [--config FILE] [--set key.path=value]... [--check-config]\n"
    "               [--version] [--help]\n"
    "\n"
    "  --config FILE      YAML configuration (default: none, built-in defaults)\n"
    "  --set k.path=v     override one key, YAML scalar syntax; list items by\n"
    "                     index: --set listeners.0.port=0 (repeatable)\n"
    "  --check-config     validate the configuration, print errors, exit 1 on error\n"
    "  --version          print the version\n"
    "  --help             this text\n";

std::string exe_dir(const char* argv0) {
  char buf[4096];
  size_t size = sizeof buf;
  if (uv_exepath(buf, &size) == 0)
    return std::filesystem::path(std::string(buf, size)).parent_path().string();
  return std::filesystem::absolute(argv0).parent_path().string();
}

struct Signals {
  uv_signal_t sigint{}, sigterm{};
  parley::kernel::Server* server = nullptr;
  parley::kernel::PluginHost* host = nullptr;
};

// Connections first (they get sys.closing Unavailable and drain), then the
// plugins, then the last handles, so uv_run returns and the loop closes.
void shut_down(Signals* s) {
  s->server->shutdown([s] {
    s->host->shutdown();
    uv_close(reinterpret_cast<uv_handle_t*>(&s->sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->sigterm), nullptr);
  });
}

void on_signal(uv_signal_t* h, int signum) {
  auto* s = static_cast<Signals*>(h->data);
  parley::log::logf(parley::log::Level::Info, "server", 0, "received %s",
                    signum == SIGINT ? "SIGINT" : "SIGTERM");
  shut_down(s);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> sets;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "parleyd: %s needs a value\n%s", name, kUsage);
        std::exit(1);
      }
      return argv[++i];
    };
    if (arg == "--config") {
      config_path = value("--config");
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (arg == "--set") {
      sets.push_back(value("--set"));
    } else if (arg.rfind("--set=", 0) == 0) {
      sets.push_back(arg.substr(6));
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--version") {
      std::printf("parleyd %s (protocol 1)\n", PARLEY_VERSION);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "parleyd: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 1;
    }
  }

  Config config;
  std::string error;
  if (!parley::kernel::load_config(config_path, sets, exe_dir(argv[0]), &config, &error)) {
    std::fprintf(stderr, "parleyd: %s\n", error.c_str());
    return 1;
  }
  if (check_only) {
    std::printf("%s: ok\n", config_path.empty() ? "<defaults>" : config_path.c_str());
    return 0;
  }
  parley::log::configure(config.log_level, config.log_json);
  if (config.listeners.empty())
    parley::log::write(parley::log::Level::Warn, "server", 0, "no listeners configured");

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "parleyd: data_dir %s: %s\n", config.data_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  // A peer that vanished mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  int code = 0;
  {
    parley::kernel::Server server(&loop, config);
    parley::kernel::PluginHost host(server, config);
    Signals signals;
    signals.server = &server;
    signals.host = &host;
    // Plugins first, so the Welcome lists their methods from the first
    // connection on.
    if (!host.start(&error)) {
      std::fprintf(stderr, "parleyd: %s\n", error.c_str());
      code = 2;
    } else {
      server.set_dispatcher(&host.dispatcher());
      if (!server.start(&error)) {
        std::fprintf(stderr, "parleyd: %s\n", error.c_str());
        code = 1;
      }
    }
    uv_signal_init(&loop, &signals.sigint);
    uv_signal_init(&loop, &signals.sigterm);
    signals.sigint.data = signals.sigterm.data = &signals;
    if (code == 0) {
      uv_signal_start_oneshot(&signals.sigint, on_signal, SIGINT);
      uv_signal_start_oneshot(&signals.sigterm, on_signal, SIGTERM);
      parley::log::logf(parley::log::Level::Info, "server", 0, "parleyd %s ready data_dir=%s",
                        PARLEY_VERSION, config.data_dir.c_str());
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    // A failed start, or nothing kept the loop alive: shut down the same
    // way, so every handle closes and the loop can be closed below.
    if (code != 0) {
      // The failure was reported in one line; tear down quietly.
      parley::log::configure(parley::log::Level::Error, config.log_json);
    }
    if (!server.shutting_down()) shut_down(&signals);
    // Whatever is still closing (libraries unload after their last callback).
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  int rc = uv_loop_close(&loop);
  if (rc != 0) {
    parley::log::logf(parley::log::Level::Error, "server", 0,
                      "uv_loop_close: %s (a handle was left open)", uv_strerror(rc));
    uv_walk(&loop, [](uv_handle_t* h, void*) {
      parley::log::logf(parley::log::Level::Error, "server", 0, "open handle type=%s",
                        uv_handle_type_name(uv_handle_get_type(h)));
    }, nullptr);
    code = 1;
  } else if (code == 0) {
    parley::log::write(parley::log::Level::Info, "server", 0, "stopped");
  }
  return code;
}
