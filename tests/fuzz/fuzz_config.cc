// Fuzz target: the YAML config loader (yaml-cpp parsing plus parleyd's
// validation into typed fields). load_config takes a path, so the input is
// written to a temp file first. The loader must return true or false with a
// message — never crash, hang or throw.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config.h"

namespace {

const std::string& scratch_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string p = std::string(tmp && *tmp ? tmp : "/tmp") + "/parley-fuzz-config-" +
                    std::to_string(getpid()) + ".yaml";
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);  // data may be null when empty
  std::fclose(f);

  parley::kernel::Config config;
  std::string error;
  // data_dir is validated but not created by load_config; the default
  // plugin_dir needs an exe_dir.
  bool ok = parley::kernel::load_config(path, {}, "/nonexistent/bin", &config, &error);
  if (!ok && error.empty()) __builtin_trap();  // a refusal always says why
  std::remove(path.c_str());
  return 0;
}
