/* tapi: needs a host function this parleyd does not have (as a plugin built
 * against a newer SDK would), and says which. */
#include <parley/plugin.h>

static parley_api api;

PARLEY_PLUGIN_ABI(1)

PARLEY_EXPORT int parley_plugin_init(parley_plugin *self, parley_get_api_fn get_api,
                                     const parley_config *cfg, void **state) {
  (void)cfg; (void)state;
  void *fn = NULL;
  if (parley_sdk_load(get_api, &api, NULL) != 0) return PARLEY_ENOTSUP;
  if (get_api("conn_frobnicate_v9", &fn) != 0 || fn == NULL) {
    api.set_error(self, "the host lacks API function conn_frobnicate_v9");
    return PARLEY_ENOTSUP;
  }
  return 0;
}

PARLEY_EXPORT void parley_plugin_shutdown(void *state) { (void)state; }
