/* The parts of the runtime that know nothing of Lua (see include/CRuntime.h); the worker
   pool is pool.c. */
#include "CRuntime.h"
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The Swift modules are compiled for Haswell-class CPUs (AVX2, FMA): refuse to start on an
   older CPU with a message instead of dying on an illegal instruction. This file itself is
   compiled for the baseline, and the check runs before Swift's main. */
#if defined(__x86_64__)
__attribute__((constructor)) static void sslua_check_cpu(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fputs("sslua: this build needs a CPU with AVX2 and FMA (x86-64-v3)\n", stderr);
        exit(1);
    }
}
#endif

void sslua_tune_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

/* ---- native memory: what tensors hold, and what was allocated since the last report ------ */
static _Atomic int64_t live_bytes = 0;
static _Atomic int64_t pending_bytes = 0;

int64_t sslua_live_bytes(void) { return atomic_load(&live_bytes); }
void sslua_note_alloc(int64_t b) { atomic_fetch_add(&live_bytes, b); atomic_fetch_add(&pending_bytes, b); }
void sslua_note_free(int64_t b) { atomic_fetch_sub(&live_bytes, b); }

int64_t sslua_take_pending_bytes(int64_t threshold) {
    int64_t p = atomic_load(&pending_bytes);
    if (p < threshold) return 0;
    atomic_store(&pending_bytes, 0);
    return p;
}

/* ---- the interrupt flag (set by CLuaShim's SIGINT handler) ------------------------------- */
static volatile sig_atomic_t interrupted = 0;

int sslua_interrupted(void) { return interrupted; }
void sslua_set_interrupt(void) { interrupted = 1; }
void sslua_clear_interrupt(void) { interrupted = 0; }

/* ---- files for the sandbox and the atomic writers (Sources/SSLuaCore/IO/Sandbox.swift) --- */
#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture (added in Linux 5.6) */
#endif
#if defined(__linux__) && !defined(O_TMPFILE) /* a GNU name: this file is not built with _GNU_SOURCE */
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

int sslua_openat2_beneath(int dirfd, const char *path, int flags, unsigned mode) {
    struct { uint64_t flags, mode, resolve; } how;
    how.flags = (uint64_t)(unsigned)flags;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = 0x08 /* RESOLVE_BENEATH */ | 0x04 /* RESOLVE_NO_SYMLINKS */ | 0x02 /* RESOLVE_NO_MAGICLINKS */;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int sslua_open_tmpfile(int dirfd) {
#ifdef O_TMPFILE
    return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#else
    (void)dirfd;
    errno = EOPNOTSUPP;
    return -1;
#endif
}
