/* tnoinit: looks like a plugin but lacks parley_plugin_init. */
#include <parley/plugin.h>

PARLEY_PLUGIN_ABI(1)

PARLEY_EXPORT void parley_plugin_shutdown(void *state) { (void)state; }
