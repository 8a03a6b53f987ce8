/*
 * Parley plugin SDK: error codes. Part of the stable C ABI v1.
 *
 * One X-macro table generates the codes, their names and their messages.
 * 0 is success; errors are negative. Codes are append-only: a number, once
 * shipped, never changes meaning.
 */
#ifndef PARLEY_ERRORS_H
#define PARLEY_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

#define PARLEY_ERRNO_MAP(XX)                                                   \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOTSUP, -2, "not supported by this host")                                \
  XX(ENOENT, -3, "no such object")                                             \
  XX(EEXIST, -4, "already exists")                                             \
  XX(EPERM, -5, "operation not permitted")                                     \
  XX(ENOMEM, -6, "out of memory")                                              \
  XX(EBUSY, -7, "resource busy")                                               \
  XX(ECANCELED, -8, "operation canceled")                                      \
  XX(ECLOSED, -9, "connection closed")                                         \
  XX(EIO, -10, "input/output error")                                           \
  XX(ENAMESPACE, -11, "name outside the plugin's namespace")                   \
  XX(EABI, -12, "incompatible ABI or build signature")                         \
  XX(ECONFIG, -13, "configuration error")                                      \
  XX(ESTATE, -14, "call not valid in the current state")                       \
  XX(ETOOBIG, -15, "value too large")                                          \
  XX(EUNAVAIL, -16, "service unavailable")                                     \
  XX(ECORRUPT, -17, "data corruption detected")                                \
  XX(ENOSPC, -18, "no space left on device")

typedef enum parley_errno {
  PARLEY_OK = 0,
#define PARLEY_ERRNO_ENUM_(name, value, msg) PARLEY_##name = (value),
  PARLEY_ERRNO_MAP(PARLEY_ERRNO_ENUM_)
#undef PARLEY_ERRNO_ENUM_
} parley_errno;

/* Returns a static, human-readable message for an error code ("success" for 0,
 * "unknown error" for anything not in the table). Thread-safe. */
static inline const char *parley_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define PARLEY_ERRNO_MSG_(name, value, msg)                                    \
  case (value):                                                                \
    return msg;
    PARLEY_ERRNO_MAP(PARLEY_ERRNO_MSG_)
#undef PARLEY_ERRNO_MSG_
  default:
    return "unknown error";
  }
}

/* Returns the static symbolic name of an error code, e.g. "PARLEY_EINVAL".
 * Thread-safe. */
static inline const char *parley_err_name(int err) {
  switch (err) {
  case 0:
    return "PARLEY_OK";
#define PARLEY_ERRNO_NAME_(name, value, msg)                                   \
  case (value):                                                                \
    return "PARLEY_" #name;
    PARLEY_ERRNO_MAP(PARLEY_ERRNO_NAME_)
#undef PARLEY_ERRNO_NAME_
  default:
    return "PARLEY_EUNKNOWN";
  }
}

/* Protocol status codes (PROTOCOL.md §2, enum parley.Status), for
 * reply_error() and conn_close(). Append-only. */
#define PARLEY_STATUS_MAP(XX)                                                  \
  XX(OK, 0, "Ok")                                                              \
  XX(INVALID_ARGUMENT, 1, "InvalidArgument")                                   \
  XX(UNAUTHENTICATED, 2, "Unauthenticated")                                    \
  XX(PERMISSION_DENIED, 3, "PermissionDenied")                                 \
  XX(NOT_FOUND, 4, "NotFound")                                                 \
  XX(ALREADY_EXISTS, 5, "AlreadyExists")                                       \
  XX(RESOURCE_EXHAUSTED, 6, "ResourceExhausted")                               \
  XX(FAILED_PRECONDITION, 7, "FailedPrecondition")                             \
  XX(UNIMPLEMENTED, 8, "Unimplemented")                                        \
  XX(UNAVAILABLE, 9, "Unavailable")                                            \
  XX(INTERNAL, 10, "Internal")                                                 \
  XX(MALFORMED, 11, "Malformed")                                               \
  XX(FRAME_TOO_LARGE, 12, "FrameTooLarge")                                     \
  XX(TIMEOUT, 13, "Timeout")

typedef enum parley_status {
#define PARLEY_STATUS_ENUM_(name, value, str) PARLEY_STATUS_##name = (value),
  PARLEY_STATUS_MAP(PARLEY_STATUS_ENUM_)
#undef PARLEY_STATUS_ENUM_
} parley_status;

/* The protocol's name for a status ("NotFound"), or "Unknown". Thread-safe. */
static inline const char *parley_status_name(int status) {
  switch (status) {
#define PARLEY_STATUS_STR_(name, value, str)                                   \
  case (value):                                                                \
    return str;
    PARLEY_STATUS_MAP(PARLEY_STATUS_STR_)
#undef PARLEY_STATUS_STR_
  default:
    return "Unknown";
  }
}

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_ERRORS_H */
