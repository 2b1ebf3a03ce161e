/* Errors are negative values of these, returned and checked at every call. */
#ifndef TESSERA_ERRNO_H
#define TESSERA_ERRNO_H

#ifdef TESSERA_HOST_TEST
#include <errno.h>
#else

#define EPERM 1
#define ENOENT 2
#define EIO 5
#define E2BIG 7
#define ENOEXEC 8
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define ENOTSUP 95

#endif
#endif
