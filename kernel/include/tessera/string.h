/* Memory and string helpers. The hypervisor has its own (kernel/lib/string.c); host unit tests
 * (built with -DTESSERA_HOST_TEST) use the C library's, so pure logic compiles in both. */
#ifndef TESSERA_STRING_H
#define TESSERA_STRING_H

#include <stddef.h>

#ifdef TESSERA_HOST_TEST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* Copies at most size-1 bytes and always terminates (size > 0). Returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);

#endif
