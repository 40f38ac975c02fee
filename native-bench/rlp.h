/* RLP writer (Ethereum yellow paper, appendix B), the same scheme as src/model/rlp.ts: a list's
 * payload is written first, then moved right by the size of its header. One growable buffer per
 * thread; nothing is allocated per item. */
#ifndef NB_RLP_H
#define NB_RLP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RLP_MAX_DEPTH 300

typedef struct {
  uint8_t *buf;
  size_t cap, pos;
  size_t starts[RLP_MAX_DEPTH];
  int depth;
  int overflow; /* nesting deeper than RLP_MAX_DEPTH or out of memory */
} rlp_w;

static inline void rlp_reset(rlp_w *w) {
  w->pos = 0;
  w->depth = 0;
  w->overflow = 0;
}

static inline int rlp_reserve(rlp_w *w, size_t n) {
  if (w->pos + n <= w->cap) return 1;
  size_t cap = w->cap ? w->cap : 4096;
  while (cap < w->pos + n) cap *= 2;
  uint8_t *b = (uint8_t *)realloc(w->buf, cap);
  if (b == NULL) {
    w->overflow = 1;
    return 0;
  }
  w->buf = b;
  w->cap = cap;
  return 1;
}

static inline int rlp_len_bytes(size_t n) {
  int k = 0;
  for (; n > 0; n >>= 8) k++;
  return k;
}

static inline void rlp_put_header(uint8_t *at, size_t len, uint8_t base_short, uint8_t base_long) {
  if (len < 56) {
    at[0] = (uint8_t)(base_short + len);
    return;
  }
  int k = rlp_len_bytes(len);
  at[0] = (uint8_t)(base_long + k);
  for (int i = k; i >= 1; i--, len >>= 8) at[i] = (uint8_t)(len & 0xff);
}

/* Unsigned integer: big-endian without leading zeros; 0 is the empty string 0x80. */
static inline void rlp_u64(rlp_w *w, uint64_t x) {
  if (!rlp_reserve(w, 9)) return;
  if (x == 0) {
    w->buf[w->pos++] = 0x80;
  } else if (x < 0x80) {
    w->buf[w->pos++] = (uint8_t)x;
  } else {
    int n = 0;
    for (uint64_t v = x; v > 0; v >>= 8) n++;
    w->buf[w->pos++] = (uint8_t)(0x80 + n);
    for (int i = n - 1; i >= 0; i--, x >>= 8) w->buf[w->pos + i] = (uint8_t)(x & 0xff);
    w->pos += n;
  }
}

/* A byte string (ids, bytes, UTF-8 text). */
static inline void rlp_bytes(rlp_w *w, const uint8_t *b, size_t n) {
  if (n == 1 && b[0] < 0x80) {
    if (!rlp_reserve(w, 1)) return;
    w->buf[w->pos++] = b[0];
    return;
  }
  if (!rlp_reserve(w, n + 9)) return;
  if (n < 56) {
    w->buf[w->pos++] = (uint8_t)(0x80 + n);
  } else {
    int k = rlp_len_bytes(n);
    rlp_put_header(w->buf + w->pos, n, 0x80, 0xb7);
    w->pos += 1 + k;
  }
  memcpy(w->buf + w->pos, b, n);
  w->pos += n;
}

static inline void rlp_byte(rlp_w *w, uint8_t b) {
  if (!rlp_reserve(w, 1)) return;
  w->buf[w->pos++] = b;
}

static inline void rlp_empty_list(rlp_w *w) { rlp_byte(w, 0xc0); }

static inline void rlp_begin(rlp_w *w) {
  if (w->depth >= RLP_MAX_DEPTH) {
    w->overflow = 1;
    return;
  }
  w->starts[w->depth++] = w->pos;
}

static inline void rlp_end(rlp_w *w) {
  if (w->overflow || w->depth == 0) {
    w->overflow = 1;
    return;
  }
  size_t start = w->starts[--w->depth];
  size_t len = w->pos - start;
  size_t h = len < 56 ? 1 : 1 + (size_t)rlp_len_bytes(len);
  if (!rlp_reserve(w, h)) return;
  if (len > 0) memmove(w->buf + start + h, w->buf + start, len);
  rlp_put_header(w->buf + start, len, 0xc0, 0xf7);
  w->pos += h;
}

#endif
