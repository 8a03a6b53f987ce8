// echo — the smallest complete Parley plugin. It registers one method,
// `echo.say` (callable before login), answering SayRequest{text} with
// SayReply{prefix + text}; `prefix` comes from its config.
//
// Build it against an installed SDK (cmake --install of Parley into $PREFIX):
//   cmake -S sdk/examples/echo -B build-echo -DCMAKE_PREFIX_PATH=$PREFIX
//   cmake --build build-echo            # -> build-echo/libecho.so
// Configure parleyd (parley.yaml) and start it:
//   plugins:
//     echo:
//       path: /absolute/path/to/build-echo/libecho.so  # default: <plugin_dir>/libecho.so
//       config:
//         prefix: "echo: "
//   $PREFIX/bin/parleyd --config parley.yaml
#include <parley/echo_generated.h>
#include <parley/plugin.hpp>

class Echo : public parley::Plugin {
 public:
  static constexpr const char* kName = "echo";
  static constexpr const char* kVersion = "1.0.0";

  void init(const parley::Config& cfg) override {
    cfg.declare_keys({"prefix"});
    prefix_ = cfg.str("prefix", "");
    method("echo.say", [this](parley::Request& req, parley::span<const uint8_t> payload) {
      auto* in = parley::verify_payload<parley::echo::SayRequest>(payload, "PECH");
      if (!in) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "expected a SayRequest");
      flatbuffers::FlatBufferBuilder fbb;
      std::string text = prefix_ + (in->text() ? in->text()->str() : "");
      fbb.Finish(parley::echo::CreateSayReply(fbb, fbb.CreateString(text)), "PECH");
      req.reply(fbb);
    }, PARLEY_METHOD_PUBLIC);
  }

 private:
  std::string prefix_;
};

PARLEY_PLUGIN(Echo)
