/* tsig: claims a sanitizer build signature this parleyd does not have. */
#include <parley/plugin.h>

static parley_api api;

PARLEY_PLUGIN_ABI(1)

PARLEY_EXPORT int parley_plugin_init(parley_plugin *self, parley_get_api_fn get_api,
                                     const parley_config *cfg, void **state) {
  (void)cfg; (void)state;
  if (parley_sdk_load(get_api, &api, NULL) != 0) return PARLEY_ENOTSUP;
  parley_plugin_info info = {0};
  info.struct_size = sizeof info;
  info.name = "tsig";
  info.version = "0.0.1";
  info.build_signature = "parley-abi1;asan;tsan";
  return api.set_info(self, &info);
}

PARLEY_EXPORT void parley_plugin_shutdown(void *state) { (void)state; }
