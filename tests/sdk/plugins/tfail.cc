// tfail: a buggy plugin. Throwing handlers, requests never answered, answered
// twice or dropped, and a method that needs a session.
#include <stdexcept>
#include <vector>

#include "test_text.hpp"

using ptest::bytes;

class TFail : public parley::Plugin {
 public:
  static constexpr const char* kName = "tfail";
  static constexpr const char* kVersion = "0.0.1";

  void init(const parley::Config&) override {
    method("tfail.throw", [](parley::Request&, parley::span<const uint8_t>) {
      throw std::runtime_error("kaboom in handler");
    }, PARLEY_METHOD_PUBLIC);
    // Deferred and kept, never answered: the kernel's deadline answers.
    method("tfail.hang", [this](parley::Request& req, parley::span<const uint8_t>) {
      hung_.push_back(req.defer());
    }, PARLEY_METHOD_PUBLIC);
    // Returns without answering at all (C-level misuse).
    method("tfail.forget", [](parley::Request&, parley::span<const uint8_t>) {},
           PARLEY_METHOD_PUBLIC);
    // Deferred, then the last Deferred copy dies unanswered.
    method("tfail.drop", [](parley::Request& req, parley::span<const uint8_t>) {
      (void)req.defer();
    }, PARLEY_METHOD_PUBLIC);
    // Answers, then answers again through the C API: ESTATE.
    method("tfail.twice", [this](parley::Request& req, parley::span<const uint8_t>) {
      parley_request* raw = req.raw();
      req.reply(bytes("first"));
      second_rc_ = parley::api().reply(raw, nullptr, 0);
    }, PARLEY_METHOD_PUBLIC);
    method("tfail.second_rc", [this](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(bytes(std::to_string(second_rc_)));
    }, PARLEY_METHOD_PUBLIC);
    // The kernel's metrics text, after bumping this plugin's own counter.
    handled_ = counter("handled_total", "Requests tfail.metrics handled.");
    method("tfail.metrics", [this](parley::Request& req, parley::span<const uint8_t>) {
      handled_.add();
      std::string out;
      parley::api().metrics_render(
          [](const char* t, size_t n, void* ud) { static_cast<std::string*>(ud)->assign(t, n); },
          &out);
      req.reply(bytes(out));
    }, PARLEY_METHOD_PUBLIC);
    method("tfail.private", [](parley::Request& req, parley::span<const uint8_t>) {
      req.reply();
    });
  }

 private:
  std::vector<parley::Deferred> hung_;
  int second_rc_ = 1;
  parley::Metric handled_;
};

PARLEY_PLUGIN(TFail)
