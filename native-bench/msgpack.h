/* Bounded MessagePack parser for the native integrity baseline.
 *
 * Parses one value into a flat pre-order node array (an arena reused across records): an
 * array/map node is followed by its children, and every node records `end`, the index one past
 * its subtree, so children are walked as k = i + 1, then k = v[k].end.
 *
 * Framing errors (truncation, the reserved byte 0xc1, lengths past the end, nesting deeper than
 * MP_MAX_DEPTH) fail the parse. Well-framed values the block model rejects (ext types, floats,
 * negative integers, maps) become nodes of their own type; the schema walker rejects them.
 * Signed integer forms holding a non-negative value are MP_UINT (SPEC 9.2: accepted on input).
 * Every str is checked to be valid UTF-8 (strict, like a fatal WHATWG decoder); an invalid one
 * sets `bad_utf8` (the model rejects it wherever a str occurs in a block record).
 */
#ifndef NB_MSGPACK_H
#define NB_MSGPACK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MP_NIL, MP_BOOL, MP_UINT, MP_NEGINT, MP_STR, MP_BIN, MP_ARRAY, MP_MAP, MP_EXT, MP_FLOAT };

#define MP_MAX_DEPTH 256

typedef struct {
  uint8_t t;
  uint32_t n;        /* str/bin: byte length; array: element count; map: pair count */
  uint32_t end;      /* index one past this node's subtree */
  const uint8_t *p;  /* str/bin payload */
  uint64_t u;        /* uint value, bool 0/1 */
} mp_node;

typedef struct {
  mp_node *v;
  uint32_t len, cap;
  int bad_utf8;
} mp_doc;

static inline uint16_t mp_rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t mp_rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t mp_rd64(const uint8_t *p) { return ((uint64_t)mp_rd32(p) << 32) | mp_rd32(p + 4); }

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, no truncated sequences. */
static int utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) {
      if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80) return 0;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      if (i + 2 >= n) return 0;
      uint8_t c1 = s[i + 1];
      if (c == 0xe0 && (c1 < 0xa0 || c1 > 0xbf)) return 0;
      else if (c == 0xed && (c1 < 0x80 || c1 > 0x9f)) return 0;
      else if ((c1 & 0xc0) != 0x80) return 0;
      if ((s[i + 2] & 0xc0) != 0x80) return 0;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      if (i + 3 >= n) return 0;
      uint8_t c1 = s[i + 1];
      if (c == 0xf0 && (c1 < 0x90 || c1 > 0xbf)) return 0;
      else if (c == 0xf4 && (c1 < 0x80 || c1 > 0x8f)) return 0;
      else if ((c1 & 0xc0) != 0x80) return 0;
      if ((s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80) return 0;
      i += 4;
    } else {
      return 0;
    }
  }
  return 1;
}

static inline int mp_push(mp_doc *d, uint32_t *idx) {
  if (d->len == d->cap) {
    uint32_t cap = d->cap ? d->cap * 2 : 1024;
    mp_node *v = (mp_node *)realloc(d->v, (size_t)cap * sizeof(mp_node));
    if (v == NULL) return -1;
    d->v = v;
    d->cap = cap;
  }
  *idx = d->len++;
  return 0;
}

/* Parses the value at *pp (bounded by end); advances *pp. Returns 0, or -1 on a framing error. */
static int mp_value(mp_doc *d, const uint8_t **pp, const uint8_t *end, int depth) {
  const uint8_t *p = *pp;
  if (p >= end || depth > MP_MAX_DEPTH) return -1;
  uint32_t i;
  if (mp_push(d, &i) < 0) return -1;
  mp_node *x = &d->v[i];
  x->p = NULL;
  x->u = 0;
  x->n = 0;
  uint8_t b = *p++;
  size_t avail = (size_t)(end - p);
  uint64_t count = 0; /* array/map element count */
  uint32_t len = 0;   /* str/bin/ext payload */
  int kind;
#define NEED(k) do { if (avail < (size_t)(k)) return -1; } while (0)
  if (b <= 0x7f) { kind = MP_UINT; x->u = b; }
  else if (b <= 0x8f) { kind = MP_MAP; count = b & 15; }
  else if (b <= 0x9f) { kind = MP_ARRAY; count = b & 15; }
  else if (b <= 0xbf) { kind = MP_STR; len = b & 31; }
  else if (b >= 0xe0) { kind = MP_NEGINT; }
  else {
    switch (b) {
      case 0xc0: kind = MP_NIL; break;
      case 0xc1: return -1;
      case 0xc2: kind = MP_BOOL; x->u = 0; break;
      case 0xc3: kind = MP_BOOL; x->u = 1; break;
      case 0xc4: NEED(1); kind = MP_BIN; len = p[0]; p += 1; break;
      case 0xc5: NEED(2); kind = MP_BIN; len = mp_rd16(p); p += 2; break;
      case 0xc6: NEED(4); kind = MP_BIN; len = mp_rd32(p); p += 4; break;
      case 0xc7: NEED(2); kind = MP_EXT; len = (uint32_t)p[0] + 1; p += 1; break;
      case 0xc8: NEED(3); kind = MP_EXT; len = (uint32_t)mp_rd16(p) + 1; p += 2; break;
      case 0xc9: NEED(5); kind = MP_EXT; len = mp_rd32(p) + 1; p += 4; if (len == 0) return -1; break;
      case 0xca: kind = MP_FLOAT; len = 4; break;
      case 0xcb: kind = MP_FLOAT; len = 8; break;
      case 0xcc: NEED(1); kind = MP_UINT; x->u = p[0]; p += 1; break;
      case 0xcd: NEED(2); kind = MP_UINT; x->u = mp_rd16(p); p += 2; break;
      case 0xce: NEED(4); kind = MP_UINT; x->u = mp_rd32(p); p += 4; break;
      case 0xcf: NEED(8); kind = MP_UINT; x->u = mp_rd64(p); p += 8; break;
      case 0xd0: NEED(1); kind = (p[0] & 0x80) ? MP_NEGINT : MP_UINT; x->u = p[0]; p += 1; break;
      case 0xd1: NEED(2); kind = (p[0] & 0x80) ? MP_NEGINT : MP_UINT; x->u = mp_rd16(p); p += 2; break;
      case 0xd2: NEED(4); kind = (p[0] & 0x80) ? MP_NEGINT : MP_UINT; x->u = mp_rd32(p); p += 4; break;
      case 0xd3: NEED(8); kind = (p[0] & 0x80) ? MP_NEGINT : MP_UINT; x->u = mp_rd64(p); p += 8; break;
      case 0xd4: kind = MP_EXT; len = 2; break;
      case 0xd5: kind = MP_EXT; len = 3; break;
      case 0xd6: kind = MP_EXT; len = 5; break;
      case 0xd7: kind = MP_EXT; len = 9; break;
      case 0xd8: kind = MP_EXT; len = 17; break;
      case 0xd9: NEED(1); kind = MP_STR; len = p[0]; p += 1; break;
      case 0xda: NEED(2); kind = MP_STR; len = mp_rd16(p); p += 2; break;
      case 0xdb: NEED(4); kind = MP_STR; len = mp_rd32(p); p += 4; break;
      case 0xdc: NEED(2); kind = MP_ARRAY; count = mp_rd16(p); p += 2; break;
      case 0xdd: NEED(4); kind = MP_ARRAY; count = mp_rd32(p); p += 4; break;
      case 0xde: NEED(2); kind = MP_MAP; count = mp_rd16(p); p += 2; break;
      default:   NEED(4); kind = MP_MAP; count = mp_rd32(p); p += 4; break; /* 0xdf */
    }
  }
#undef NEED
  x->t = (uint8_t)kind;
  if (kind == MP_STR || kind == MP_BIN || kind == MP_EXT || kind == MP_FLOAT) {
    if ((size_t)(end - p) < len) return -1;
    x->p = p;
    x->n = len;
    if (kind == MP_STR && !utf8_valid(p, len)) d->bad_utf8 = 1;
    p += len;
  } else if (kind == MP_ARRAY || kind == MP_MAP) {
    uint64_t items = kind == MP_MAP ? count * 2 : count;
    if (items > (uint64_t)(end - p)) return -1; /* every element takes at least one byte */
    x->n = (uint32_t)count;
    for (uint64_t k = 0; k < items; k++) {
      if (mp_value(d, &p, end, depth + 1) < 0) return -1;
    }
  }
  d->v[i].end = d->len;
  *pp = p;
  return 0;
}

/* Parses buf[0, len) as exactly one value. Returns 0, -1 on a framing error, -2 on trailing bytes. */
static int mp_parse(mp_doc *d, const uint8_t *buf, size_t len) {
  d->len = 0;
  d->bad_utf8 = 0;
  const uint8_t *p = buf;
  if (mp_value(d, &p, buf + len, 0) < 0) return -1;
  return p == buf + len ? 0 : -2;
}

#endif
