/*
 * LD_PRELOAD shim for h2load: gives each request its own pre-encoded body.
 *
 * h2load sends one body file (-d FILE) for every request, reading it with pread() at offset 0
 * when a request starts. This shim answers those reads from a second file holding COUNT bodies
 * of the same length (the first one is the -d file), one after the other: request k gets body
 * (START + k) mod COUNT. Content-length stays right because every body has the -d file's length.
 *
 * Environment: H2MIX_DATA (the -d file), H2MIX_BODIES (COUNT bodies back to back),
 * H2MIX_START (first body index, default 0), H2MIX_REPORT (file to write "served partial" to).
 * A "partial" read (a body sent in more than one read, when flow control splits it) falls back
 * to the -d file's bytes and is counted, so a run can be rejected when it happens.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t (*real_pread)(int, void *, size_t, off_t);
static const unsigned char *bodies;
static size_t body_len, body_count, start_index;
static unsigned long served, partial;
static dev_t data_dev;
static ino_t data_ino;
static int data_fd = -1, ready;

__attribute__((constructor)) static void h2mix_init(void) {
  real_pread = (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
  const char *data = getenv("H2MIX_DATA"), *path = getenv("H2MIX_BODIES"), *start = getenv("H2MIX_START");
  if (!data || !path) return;
  struct stat ds, bs;
  if (stat(data, &ds) != 0 || ds.st_size == 0) return;
  int fd = open(path, O_RDONLY);
  if (fd < 0 || fstat(fd, &bs) != 0 || bs.st_size == 0 || bs.st_size % ds.st_size != 0) return;
  void *m = mmap(NULL, bs.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return;
  bodies = m;
  body_len = ds.st_size;
  body_count = bs.st_size / ds.st_size;
  start_index = start ? strtoul(start, NULL, 10) : 0;
  data_dev = ds.st_dev;
  data_ino = ds.st_ino;
  ready = 1;
}

__attribute__((destructor)) static void h2mix_report(void) {
  const char *out = getenv("H2MIX_REPORT");
  if (!ready || !out) return;
  FILE *f = fopen(out, "w");
  if (!f) return;
  fprintf(f, "%lu %lu %zu\n", served, partial, body_count);
  fclose(f);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset) {
  if (!ready) return real_pread(fd, buf, count, offset);
  if (data_fd != fd) {
    struct stat st;
    if (data_fd != -1 || fstat(fd, &st) != 0 || st.st_dev != data_dev || st.st_ino != data_ino)
      return real_pread(fd, buf, count, offset);
    data_fd = fd;
  }
  if (offset != 0 || count < body_len) {
    partial++;
    return real_pread(fd, buf, count, offset);
  }
  size_t i = (start_index + served++) % body_count;
  memcpy(buf, bodies + i * body_len, body_len);
  return (ssize_t)body_len;
}
