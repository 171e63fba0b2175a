/*
 * zstd for recording files, loaded when first needed.  The library needs
 * nothing but libc and pthreads, so libzstd is never linked: a build that
 * found <zstd.h> (libzstd-dev) can compress and decompress by loading
 * libzstd.so.1 (Debian's libzstd1, which apt itself needs) on first use; a
 * build without the header, or a machine without the library, reads and
 * writes uncompressed recordings and says why it cannot do more.
 * The header gives the real prototypes, so the pointers below are typed by
 * the library's own declarations, not by hand-written copies.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>

#ifdef RINGLOG_HAVE_ZSTD
#include <dlfcn.h>
#include <zstd.h>

static struct {
    __typeof__(ZSTD_compress) *compress;
    __typeof__(ZSTD_decompress) *decompress;
    __typeof__(ZSTD_isError) *is_error;
    __typeof__(ZSTD_getErrorName) *error_name;
    __typeof__(ZSTD_compressBound) *bound;
    char why[200];
    int ok;
} z;
static pthread_once_t z_once = PTHREAD_ONCE_INIT;

static void z_load(void)
{
    void *h = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(z.why, sizeof z.why, "cannot load libzstd.so.1 (Debian package libzstd1): %s",
                 e ? e : "unknown error");
        return;
    }
    /* POSIX allows a data pointer from dlsym to be converted this way. */
    *(void **)&z.compress = dlsym(h, "ZSTD_compress");
    *(void **)&z.decompress = dlsym(h, "ZSTD_decompress");
    *(void **)&z.is_error = dlsym(h, "ZSTD_isError");
    *(void **)&z.error_name = dlsym(h, "ZSTD_getErrorName");
    *(void **)&z.bound = dlsym(h, "ZSTD_compressBound");
    if (!z.compress || !z.decompress || !z.is_error || !z.error_name || !z.bound) {
        snprintf(z.why, sizeof z.why, "libzstd.so.1 lacks the functions ringlog uses");
        return;
    }
    z.ok = 1;
}

int rl_zstd_available(const char **why)
{
    pthread_once(&z_once, z_load);
    if (why)
        *why = z.ok ? NULL : z.why;
    return z.ok;
}

size_t rl_zstd_bound(size_t n)
{
    return rl_zstd_available(NULL) ? z.bound(n) : 0;
}

int rl_zstd_compress(void *dst, size_t cap, const void *src, size_t n, int level, size_t *out)
{
    const char *why;
    if (!rl_zstd_available(&why))
        return rl_fail(RINGLOG_EINVAL, "%s", why);
    size_t r = z.compress(dst, cap, src, n, level);
    if (z.is_error(r))
        return rl_fail(RINGLOG_EIO, "zstd: %s", z.error_name(r));
    *out = r;
    return 0;
}

int rl_zstd_decompress(void *dst, size_t cap, const void *src, size_t n, size_t *out)
{
    const char *why;
    if (!rl_zstd_available(&why))
        return rl_fail(RINGLOG_EINVAL, "a compressed block: %s", why);
    size_t r = z.decompress(dst, cap, src, n);
    if (z.is_error(r))
        return rl_fail(RINGLOG_EFORMAT, "zstd: %s", z.error_name(r));
    *out = r;
    return 0;
}

#else /* built without <zstd.h> */

int rl_zstd_available(const char **why)
{
    if (why)
        *why = "this ringlog was built without zstd support (install libzstd-dev and rebuild)";
    return 0;
}

size_t rl_zstd_bound(size_t n)
{
    (void)n;
    return 0;
}

int rl_zstd_compress(void *dst, size_t cap, const void *src, size_t n, int level, size_t *out)
{
    (void)dst, (void)cap, (void)src, (void)n, (void)level, (void)out;
    const char *why;
    rl_zstd_available(&why);
    return rl_fail(RINGLOG_EINVAL, "%s", why);
}

int rl_zstd_decompress(void *dst, size_t cap, const void *src, size_t n, size_t *out)
{
    (void)dst, (void)cap, (void)src, (void)n, (void)out;
    const char *why;
    rl_zstd_available(&why);
    return rl_fail(RINGLOG_EINVAL, "a compressed block: %s", why);
}

#endif
