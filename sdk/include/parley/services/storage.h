/*
 * The `storage` service, version 1: a durable, ordered key-value store,
 * exported by the persistence plugin and looked up with
 *   get_service(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION).
 *
 * Every call is made on the loop thread and returns at once; the work runs
 * off the loop and its completion callback runs later on the loop thread,
 * exactly once (also on error, also at shutdown with PARLEY_ECANCELED).
 * Keys and values are byte strings, borrowed for the call (copied by the
 * service). Keys sort bytewise; use big-endian integers for numeric order.
 *
 * Each function that takes a callback returns 0, and then the callback runs
 * later exactly once; or it returns an error at once (PARLEY_EINVAL for bad
 * arguments or an unknown namespace, PARLEY_ECANCELED once shutting down) and
 * the callback never runs. Keys must be non-empty.
 *
 * Errors reported to callbacks: PARLEY_ENOENT (get: no such key),
 * PARLEY_EUNAVAIL (I/O error, disk full, corruption: nothing was written),
 * PARLEY_ECANCELED (shutting down), PARLEY_EINVAL.
 *
 * Durability: a write's callback with status 0 means the write is durable as
 * configured (`durability: sync` — the WAL is fsynced, with concurrent
 * writes grouped into one sync; `async` — written, not synced).
 */
#ifndef PARLEY_SERVICES_STORAGE_H
#define PARLEY_SERVICES_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARLEY_STORAGE_SERVICE "storage"
#define PARLEY_STORAGE_VERSION 1u

/* A namespace handle (one column family); > 0. */
typedef uint64_t parley_storage_ns;
/* A batch under construction; owned by the caller until commit/discard. */
typedef struct parley_storage_batch parley_storage_batch;

/* One key/value pair of a scan result, borrowed for the callback. */
typedef struct parley_storage_kv {
  const uint8_t *key;
  size_t key_len;
  const uint8_t *value;
  size_t value_len;
} parley_storage_kv;

typedef void (*parley_storage_get_cb)(void *ud, int status,
                                      const uint8_t *value, size_t len);
typedef void (*parley_storage_write_cb)(void *ud, int status);
/* items[0..n) in scan order; more != 0 when the limit cut the scan short. */
typedef void (*parley_storage_scan_cb)(void *ud, int status,
                                       const parley_storage_kv *items,
                                       size_t n, int more);

#define PARLEY_SCAN_REVERSE 0x1u

typedef struct parley_storage_v1 {
  uint32_t struct_size;

  /* Open (creating if needed) the namespace "<plugin name>" or, with a
   * non-NULL suffix, "<plugin name>.<suffix>". A plugin writes only its own
   * namespaces. Synchronous (call it from on_all_loaded or init of a plugin
   * initialised after persistence). Returns the handle (> 0) or 0 and sets
   * the plugin's error. */
  parley_storage_ns (*open_namespace)(parley_plugin *self, const char *suffix);

  /* Read one key. cb gets status 0 and the value (borrowed), or ENOENT. */
  int (*get)(parley_storage_ns ns, const uint8_t *key, size_t key_len,
             parley_storage_get_cb cb, void *ud);

  /* Batches: atomic, all-or-nothing. */
  parley_storage_batch *(*batch_new)(void);
  int (*batch_put)(parley_storage_batch *b, parley_storage_ns ns,
                   const uint8_t *key, size_t key_len, const uint8_t *value,
                   size_t value_len);
  int (*batch_delete)(parley_storage_batch *b, parley_storage_ns ns,
                      const uint8_t *key, size_t key_len);
  /* Commit and consume the batch (the caller must not touch it again, also
   * when an error is returned). cb runs when durable (or failed). */
  int (*batch_commit)(parley_storage_batch *b, parley_storage_write_cb cb,
                      void *ud);
  void (*batch_discard)(parley_storage_batch *b);

  /* Ordered scan of keys in [start, end) (end_len 0: to the end of the
   * namespace), forward or with PARLEY_SCAN_REVERSE backward (from the
   * greatest key < end down to start), at most limit items (0: no limit). */
  int (*scan)(parley_storage_ns ns, const uint8_t *start, size_t start_len,
              const uint8_t *end, size_t end_len, uint32_t flags,
              size_t limit, parley_storage_scan_cb cb, void *ud);

  /* Convenience over scan: every key starting with prefix. */
  int (*scan_prefix)(parley_storage_ns ns, const uint8_t *prefix,
                     size_t prefix_len, uint32_t flags, size_t limit,
                     parley_storage_scan_cb cb, void *ud);

  void *reserved[8];
} parley_storage_v1;

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_SERVICES_STORAGE_H */
