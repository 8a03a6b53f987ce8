/* The test service "tcounter" v1, exported by tprov and used by tuser. */
#ifndef PARLEY_TEST_TCOUNTER_H
#define PARLEY_TEST_TCOUNTER_H

#include <stdint.h>

typedef struct tcounter_v1 {
  uint32_t struct_size;
  int64_t (*bump)(void *ctx, int64_t by);
  void *ctx;
  void *reserved[4];
} tcounter_v1;

#endif
