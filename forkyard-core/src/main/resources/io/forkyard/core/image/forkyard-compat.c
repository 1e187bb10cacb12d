/*
 * Preloaded into every sandbox process (/etc/ld.so.preload of forkyard images).
 *
 * gVisor's runsc 0.0~20221219 (Debian 12) answers statx(..., AT_NO_AUTOMOUNT, ...) with EINVAL.
 * coreutils 9 passes that flag for every stat, so `ls DIR`, `ls -l` and `stat` fail inside a
 * sandbox with "Invalid argument". A gVisor sandbox has no automount points, so the flag means
 * nothing there: drop it and pass everything else through unchanged.
 *
 * Only libc's `syscall` is used, so the library works with any glibc a recipe's suite brings.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  return (int)syscall(SYS_statx, dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}
