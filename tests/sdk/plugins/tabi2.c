/* tabi2: speaks only ABI major 2, which this parleyd does not support. */
#include <parley/plugin.h>

PARLEY_PLUGIN_ABI(2)

PARLEY_EXPORT int parley_plugin_init(parley_plugin *self, parley_get_api_fn get_api,
                                     const parley_config *cfg, void **state) {
  (void)self; (void)get_api; (void)cfg; (void)state;
  return 0;
}

PARLEY_EXPORT void parley_plugin_shutdown(void *state) { (void)state; }
