/* tdup: registers the same method twice and ignores the error; the host
 * refuses the start anyway. */
#include <parley/plugin.h>

static parley_api api;

static void handler(parley_request *req, const uint8_t *p, size_t n, void *ud) {
  (void)p; (void)n; (void)ud;
  api.reply(req, NULL, 0);
}

PARLEY_PLUGIN_ABI(1)

PARLEY_EXPORT int parley_plugin_init(parley_plugin *self, parley_get_api_fn get_api,
                                     const parley_config *cfg, void **state) {
  (void)cfg; (void)state;
  if (parley_sdk_load(get_api, &api, NULL) != 0) return PARLEY_ENOTSUP;
  parley_plugin_info info = {0};
  info.struct_size = sizeof info;
  info.name = "tdup";
  info.version = "0.0.1";
  info.build_signature = PARLEY_BUILD_SIGNATURE;
  if (api.set_info(self, &info) != 0) return PARLEY_EINVAL;
  (void)api.register_method(self, "tdup.x", handler, 0, NULL);
  (void)api.register_method(self, "tdup.x", handler, 0, NULL);
  return 0;
}

PARLEY_EXPORT void parley_plugin_shutdown(void *state) { (void)state; }
