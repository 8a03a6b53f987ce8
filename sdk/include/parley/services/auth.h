/*
 * The `auth` service, version 1: user lookups for other plugins (rooms uses
 * it to validate members). Exported by the auth plugin; look it up with
 *   get_service(PARLEY_AUTH_SERVICE, PARLEY_AUTH_VERSION) in on_all_loaded.
 *
 * Calls are made on the loop thread; cb runs later on the loop thread,
 * exactly once, with status 0 and the user (borrowed for the callback), or
 * PARLEY_ENOENT, or PARLEY_EUNAVAIL / PARLEY_ECANCELED.
 *
 * Both functions return 0 when cb will run, or an error and cb never runs:
 * PARLEY_EINVAL (NULL argument), PARLEY_EUNAVAIL (the service is not ready:
 * called before the auth plugin's on_all_loaded, or after its shutdown).
 * A malformed id or phone number is not an error of the call: cb gets
 * PARLEY_ENOENT. cb is never called before the function returns.
 */
#ifndef PARLEY_SERVICES_AUTH_H
#define PARLEY_SERVICES_AUTH_H

#include <stdint.h>

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARLEY_AUTH_SERVICE "auth"
#define PARLEY_AUTH_VERSION 1u

typedef struct parley_user_info {
  uint32_t struct_size;
  const char *user_id;      /* canonical lowercase UUIDv7 */
  const char *phone;        /* E.164, normalised */
  const char *display_name;
  uint64_t created_at;      /* Unix ms */
  void *reserved[4];
} parley_user_info;

typedef void (*parley_user_cb)(void *ud, int status,
                               const parley_user_info *user);

typedef struct parley_auth_v1 {
  uint32_t struct_size;
  int (*find_user_by_id)(const char *user_id, parley_user_cb cb, void *ud);
  /* phone is normalised by the service first. */
  int (*find_user_by_phone)(const char *phone, parley_user_cb cb, void *ud);
  void *reserved[8];
} parley_auth_v1;

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_SERVICES_AUTH_H */
