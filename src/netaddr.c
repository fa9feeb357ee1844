/* netaddr.c: IP addresses as bytes. Parses addresses and CIDR ranges (IPv4
 * is held as its v4-mapped IPv6 form, so "127.0.0.1" and "::ffff:7f00:1"
 * are the same 16 bytes), matches an address against ranges, and tells the
 * two ends of a connected descriptor. The system's socket calls are
 * platform.c's. */
#include "rzmq.h"
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0xff, 0xff};

int rzmq_addr_parse(const char *s, unsigned char out[16], int *is_v4) {
  char buf[64];
  const char *pct = strchr(s, '%');
  size_t n = pct != NULL ? (size_t)(pct - s) : strlen(s);
  if (n == 0 || n >= sizeof buf) return 0;
  /* a zone ("fe80::1%eth0") is not part of the address compared */
  memcpy(buf, s, n);
  buf[n] = '\0';
  switch (rzmq_ip_parse(buf, out)) {
  case 4:
    memmove(out + 12, out, 4);
    memcpy(out, v4_mapped, 12);
    if (is_v4 != NULL) *is_v4 = 1;
    return 1;
  case 16:
    if (is_v4 != NULL) *is_v4 = memcmp(out, v4_mapped, 12) == 0;
    return 1;
  default:
    return 0;
  }
}

int rzmq_range_parse(const char *s, rzmq_range *r, const char **why) {
  char addr[64];
  const char *slash = strchr(s, '/');
  int v4, bits, i;
  size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
  *why = "is not an IP address or a range such as \"10.0.0.0/8\"";
  if (n >= sizeof addr || strchr(s, '%') != NULL) return 0;
  memcpy(addr, s, n);
  addr[n] = '\0';
  if (!rzmq_addr_parse(addr, r->net, &v4)) return 0;
  if (slash == NULL) {
    r->bits = 128;
    return 1;
  }
  /* the prefix length: 1 to 3 digits, nothing else */
  n = strlen(slash + 1);
  if (n == 0 || n > 3 || strspn(slash + 1, "0123456789") != n) return 0;
  bits = (int)strtol(slash + 1, NULL, 10);
  /* a range written in IPv4 counts its bits from the IPv4 part */
  if (v4 && strchr(addr, ':') == NULL) bits += 96;
  if (bits > 128) {
    *why = "has a prefix length longer than its address";
    return 0;
  }
  r->bits = bits;
  /* host bits set ("10.0.0.1/8"): refused, not guessed at */
  for (i = 0; i < 16; i++) {
    int keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
    unsigned char mask = (unsigned char)(0xff << (8 - keep));
    if ((r->net[i] & (unsigned char)~mask) != 0) {
      *why = "has bits set past its prefix length (write the network "
             "address, such as \"10.0.0.0/8\")";
      return 0;
    }
  }
  return 1;
}

int rzmq_range_match(const rzmq_range *v, int n, const unsigned char a[16]) {
  int i, full, rest;
  for (i = 0; i < n; i++) {
    full = v[i].bits / 8;
    rest = v[i].bits % 8;
    if (memcmp(v[i].net, a, (size_t)full) != 0) continue;
    if (rest != 0 &&
        ((v[i].net[full] ^ a[full]) & (unsigned char)(0xff << (8 - rest))))
      continue;
    return 1;
  }
  return 0;
}

int rzmq_fd_ends(int fd, rzmq_conn_ends *e) {
  return rzmq_socket_ends(fd, e->peer, &e->peer_port, e->local,
                          &e->local_port);
}
