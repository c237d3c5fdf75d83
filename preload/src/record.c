// Record output: the events file, JSON text into caller-owned buffers, and native
// addresses as "module(symbol+0xOFF)". Nothing here allocates.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forkwatch.h"

// The events file, opened once by the constructor. A forked child shares the open file
// description (O_APPEND: every write(2) lands at the end, whole). Moved to a high number so
// a program that counts or reuses low descriptors sees the ones it expects.
static int events_fd = -1;
static dev_t events_dev;
static ino_t events_ino;
enum { FW_EVENTS_FD_MIN = 500 };

bool fw_events_open(void) {
    const char* path = getenv("HANGAR_EVENTS_FILE");
    if (path == NULL || path[0] == '\0') return false;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_CREAT, 0644);
    if (fd < 0) return false;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, FW_EVENTS_FD_MIN);
    if (high < 0) {
        // RLIMIT_NOFILE below 501: take the highest number the limit allows.
        struct rlimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > 16)
            high = fcntl(fd, F_DUPFD_CLOEXEC, (int)(limit.rlim_cur / 2));
    }
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return false;
    }
    events_dev = st.st_dev;
    events_ino = st.st_ino;
    events_fd = fd;
    return true;
}

// One record, one write(2). A program that closed every descriptor (and maybe reused the
// number) must not receive our text: the file's identity is checked before each write.
void fw_events_write(const char* data, size_t len) {
    if (events_fd < 0) return;
    int saved = errno;
    struct stat st;
    if (fstat(events_fd, &st) != 0 || st.st_dev != events_dev || st.st_ino != events_ino) {
        events_fd = -1;
    } else {
        ssize_t n;
        do n = write(events_fd, data, len);
        while (n < 0 && errno == EINTR);
    }
    errno = saved;
}

// One record per process that loads the library, so hangar can tell "no hazard" from "the
// detector never ran" (a static or setuid program ignores LD_PRELOAD).
void fw_loaded(void) {
    char text[96];
    struct fw_buf b = {text, 0, sizeof text, false};
    fw_put(&b, "{\"event\":\"forkwatch_loaded\",\"pid\":");
    fw_put_i64(&b, getpid());
    fw_put(&b, "}\n");
    if (!b.full) fw_events_write(b.p, b.len);
}

void fw_hazards_unavailable(const char* why) {
    static _Atomic int written;
    if (atomic_exchange(&written, 1)) return;
    char text[512];
    struct fw_buf b = {text, 0, sizeof text, false};
    fw_put(&b, "{\"event\":\"hazards_unavailable\",\"pid\":");
    fw_put_i64(&b, getpid());
    fw_put(&b, ",\"why\":");
    fw_put_json_str(&b, why, strlen(why));
    fw_put(&b, "}\n");
    if (!b.full) fw_events_write(b.p, b.len);
}

// JSON text. A buffer that runs out of room sets `full` and takes nothing more, so a
// caller checks once at the end (or rolls back to a saved length).
void fw_put_n(struct fw_buf* b, const char* s, size_t n) {
    if (b->full || b->cap - b->len < n) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void fw_put(struct fw_buf* b, const char* s) { fw_put_n(b, s, strlen(s)); }

void fw_put_u64(struct fw_buf* b, uint64_t v) {
    char digits[24];
    size_t i = sizeof digits;
    do digits[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    fw_put_n(b, digits + i, sizeof digits - i);
}

void fw_put_i64(struct fw_buf* b, int64_t v) {
    if (v < 0) {
        fw_put_n(b, "-", 1);
        fw_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        fw_put_u64(b, (uint64_t)v);
    }
}

static void put_hex_digits(struct fw_buf* b, uintptr_t v) {
    char digits[2 * sizeof v];
    size_t i = sizeof digits;
    do digits[--i] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) != 0);
    fw_put_n(b, "0x", 2);
    fw_put_n(b, digits + i, sizeof digits - i);
}

void fw_put_hex(struct fw_buf* b, uintptr_t v) {
    fw_put_n(b, "\"", 1);
    put_hex_digits(b, v);
    fw_put_n(b, "\"", 1);
}

// Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one.
static size_t utf8_sequence(const unsigned char* s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    unsigned cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

// A JSON string: quotes, backslashes and control characters escaped; bytes that are not
// valid UTF-8 become U+FFFD, so every line parses whatever a thread name holds.
void fw_put_json_str(struct fw_buf* b, const char* s, size_t n) {
    const unsigned char* u = (const unsigned char*)s;
    fw_put_n(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            fw_put_n(b, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};
            fw_put_n(b, esc, 6);
            i++;
        } else {
            size_t len = utf8_sequence(u + i, n - i);
            if (len == 0) {
                fw_put_n(b, "\\ufffd", 6);
                i++;
            } else {
                fw_put_n(b, s + i, len);
                i += len;
            }
        }
    }
    fw_put_n(b, "\"", 1);
}

// Symbols. The main program's link map has an empty name; /proc/self/exe gives it one.
// Modules are written with their full path, so hangar can name a frame that dladdr could not
// (a static function) from the module's debug information afterwards.
static char exe_name[1024];
static void* self_base;  // this library's load address: its frames are left out of stacks

void fw_symbols_init(void) {
    Dl_info self;
    if (dladdr((void*)fw_symbols_init, &self) != 0) self_base = self.dli_fbase;
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = '\0';
        size_t len = strnlen(path, sizeof exe_name - 1);
        memcpy(exe_name, path, len);
        exe_name[len] = '\0';
    }
}

bool fw_is_own_frame(uintptr_t addr) {
    Dl_info info;
    return self_base != NULL && dladdr((void*)addr, &info) != 0 && info.dli_fbase == self_base;
}

void fw_put_symbol(struct fw_buf* b, uintptr_t addr, bool is_return) {
    Dl_info info;
    struct link_map* map = NULL;
    uintptr_t lookup = is_return && addr > 0 ? addr - 1 : addr;
    if (dladdr1((void*)lookup, &info, (void**)&map, RTLD_DL_LINKMAP) == 0 || map == NULL) {
        fw_put_hex(b, addr);
        return;
    }
    const char* module = info.dli_fname && info.dli_fname[0] ? info.dli_fname : exe_name;
    if (map->l_name == NULL || map->l_name[0] == '\0') module = exe_name;
    char text[1536];
    struct fw_buf t = {text, 0, sizeof text, false};
    fw_put(&t, module);
    if (info.dli_sname != NULL && info.dli_saddr != NULL) {
        fw_put_n(&t, "(", 1);
        // C++ names stay mangled: libstdc++'s demangler allocates (c++filt reads them).
        fw_put(&t, info.dli_sname);
        fw_put_n(&t, "+", 1);
        put_hex_digits(&t, addr - (uintptr_t)info.dli_saddr);
        fw_put_n(&t, ")", 1);
    } else {
        // Offset from the load bias, as addr2line and nm count for this module.
        fw_put_n(&t, "+", 1);
        put_hex_digits(&t, addr - (uintptr_t)map->l_addr);
    }
    if (t.full) {
        fw_put_hex(b, addr);
        return;
    }
    fw_put_json_str(b, t.p, t.len);
}
