// SHA-1 (FIPS 180-4), used only to check external-data checksums.
#include "utils/Sha1.h"

#include <cstdint>
#include <cstring>

namespace onnxopt {

static inline uint32_t rol(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

static void block(uint32_t h[5], const unsigned char *p) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i)
    w[i] = (uint32_t(p[4 * i]) << 24) | (uint32_t(p[4 * i + 1]) << 16) |
           (uint32_t(p[4 * i + 2]) << 8) | uint32_t(p[4 * i + 3]);
  for (int i = 16; i < 80; ++i)
    w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    uint32_t t = rol(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

std::string sha1Hex(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  const auto *p = reinterpret_cast<const unsigned char *>(data.data());
  size_t n = data.size();
  size_t full = n / 64;
  for (size_t i = 0; i < full; ++i)
    block(h, p + 64 * i);
  unsigned char tail[128] = {0};
  size_t rem = n % 64;
  std::memcpy(tail, p + 64 * full, rem);
  tail[rem] = 0x80;
  size_t tailLen = rem < 56 ? 64 : 128;
  uint64_t bits = uint64_t(n) * 8;
  for (int i = 0; i < 8; ++i)
    tail[tailLen - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  block(h, tail);
  if (tailLen == 128)
    block(h, tail + 64);
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (uint32_t v : h)
    for (int i = 7; i >= 0; --i)
      out.push_back(hex[(v >> (4 * i)) & 0xF]);
  return out;
}

} // namespace onnxopt
