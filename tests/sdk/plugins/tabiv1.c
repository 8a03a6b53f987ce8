/* tabiv1: the ABI guard. A plain C plugin compiled against the FROZEN v1
 * headers in sdk/abi/v1/ (never against sdk/include), built and loaded by the
 * test suite forever: if a later parleyd stops loading it or changes what it
 * sees, ABI v1 broke.
 *
 * tabiv1.add: payload = bytes; replies one byte: config `base` + their sum
 * (mod 256). tabiv1.who: replies "<conn>/<transport>/<method>". */
#include <parley/plugin.h>

#include <stdio.h>
#include <string.h>

typedef struct state {
  int64_t base;
  uint64_t calls;
} state;

static parley_api api;
static state st;

static void add(parley_request *req, const uint8_t *p, size_t n, void *ud) {
  state *s = (state *)ud;
  uint8_t sum = (uint8_t)s->base;
  size_t i;
  for (i = 0; i < n; i++) sum = (uint8_t)(sum + p[i]);
  s->calls++;
  api.reply(req, &sum, 1);
}

static void who(parley_request *req, const uint8_t *p, size_t n, void *ud) {
  char buf[256];
  const char *transport = api.conn_transport(api.request_conn(req));
  (void)p; (void)n; (void)ud;
  snprintf(buf, sizeof buf, "%llu/%s/%s", (unsigned long long)api.request_conn(req),
           transport ? transport : "?", api.request_method(req));
  api.reply(req, (const uint8_t *)buf, strlen(buf));
}

PARLEY_PLUGIN_ABI(1)

PARLEY_EXPORT int parley_plugin_init(parley_plugin *self, parley_get_api_fn get_api,
                                     const parley_config *cfg, void **out_state) {
  const char *missing = NULL;
  static const char *const keys[] = {"base"};
  parley_plugin_info info;
  if (parley_sdk_load(get_api, &api, &missing) != 0) {
    if (api.set_error) api.set_error(self, missing);
    return PARLEY_ENOTSUP;
  }
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  info.name = "tabiv1";
  info.version = "1.0.0";
  info.build_signature = PARLEY_BUILD_SIGNATURE;
  if (api.set_info(self, &info) != 0) return PARLEY_EINVAL;
  if (api.config_declare_keys(cfg, keys, 1) != 0) return PARLEY_ECONFIG;
  if (api.config_get_int(cfg, "base", 0, 0, 255, &st.base) != 0) return PARLEY_ECONFIG;
  if (api.register_method(self, "tabiv1.add", add, PARLEY_METHOD_PUBLIC, &st) != 0 ||
      api.register_method(self, "tabiv1.who", who, PARLEY_METHOD_PUBLIC, &st) != 0)
    return PARLEY_EINVAL;
  api.log(self, PARLEY_LOG_INFO, "abi v1 plugin up, base=%lld", (long long)st.base);
  *out_state = &st;
  return 0;
}

PARLEY_EXPORT void parley_plugin_shutdown(void *s) {
  (void)s;
}
