/*
 * NAME		files - file helpers: whole reads and writes, locks, dirs
 */
#ifndef UTIL_FILES_H
#define UTIL_FILES_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define LOCK_SHARED	1
#define LOCK_EXCL	2
#define LOCK_NOWAIT	4

int	 write_all(int, const void *, size_t);
int	 pwrite_all(int, const void *, size_t, off_t);
int	 read_fd_all(int, struct buf *, size_t);
int	 file_read(const char *, struct buf *, size_t);
int	 file_replace(const char *, const void *, size_t, mode_t);
int	 file_flock(int, int);
int	 file_funlock(int);
int	 file_fcntl_lock(int, int);
int	 dotlock_acquire(const char *, int, char *, size_t);
void	 dotlock_release(const char *);
int	 dir_fsync(const char *);
int	 mkdir_p(const char *, mode_t);
int	 path_is_safe_dir(const char *);

#endif
