// glibc calls that hold a glibc-internal lock. Those locks (__libc_lock_t, sysdeps/nptl/
// libc-lockP.h) are a bare int with no owner, taken through glibc's internal aliases that
// no interposer sees; fork() (posix/fork.c in glibc 2.36) re-initialises only the malloc
// arenas, the stdio list and FILE locks, the NSS configuration lock, the loader's locks and
// the thread-stack lock, not the static locks below. What can be known is which thread was
// inside the public call that takes one: each call here notes "inside f" in the thread's
// slot for the length of the call, and a child entering a call of the same group (same
// lock) writes inherited_wait first. preload/README.md lists the research behind each.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <grp.h>
#include <iconv.h>
#include <libintl.h>
#include <locale.h>
#include <netdb.h>
#include <pwd.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <utmp.h>
#include <utmpx.h>

#include "forkwatch.h"

// <libintl.h> turns these into dcgettext calls when optimising; we define the functions.
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext
#undef dcgettext
#undef dcngettext

// Groups: calls that take the same glibc lock.
enum {
    G_CHECK_PF = 1, G_PWNAM, G_PWUID, G_PWENT, G_GRNAM, G_GRGID, G_GRENT, G_SPNAM, G_SPENT,
    G_HOSTBYNAME, G_HOSTBYNAME2, G_HOSTBYADDR, G_HOSTENT, G_SERVBYNAME, G_SERVBYPORT, G_SERVENT,
    G_PROTOBYNAME, G_PROTOBYNUMBER, G_PROTOENT, G_NETBYNAME, G_NETBYADDR, G_NETENT, G_NETGRENT,
    G_ENV, G_SYSLOG, G_TZ, G_RANDOM, G_LOCALE, G_GETTEXT, G_ICONV, G_UTMP, G_POPEN,
};

#define L_BYYY "its own static lock (nss/getXXbyYY.c)"
#define L_ENT "the enumeration locks (nss/getXXent.c, nss/getXXent_r.c, nss/nss_files_data.c)"

// X(function, group, lock). Every function here is interposed below.
#define CALLS(X)                                                                                       \
    X(getaddrinfo, G_CHECK_PF, "__check_pf's lock (sysdeps/unix/sysv/linux/check_pf.c)")               \
    X(getpwnam, G_PWNAM, L_BYYY) X(getpwuid, G_PWUID, L_BYYY)                                         \
    X(getpwent, G_PWENT, L_ENT) X(getpwent_r, G_PWENT, L_ENT) X(setpwent, G_PWENT, L_ENT)             \
    X(endpwent, G_PWENT, L_ENT)                                                                       \
    X(getgrnam, G_GRNAM, L_BYYY) X(getgrgid, G_GRGID, L_BYYY)                                         \
    X(getgrent, G_GRENT, L_ENT) X(getgrent_r, G_GRENT, L_ENT) X(setgrent, G_GRENT, L_ENT)             \
    X(endgrent, G_GRENT, L_ENT)                                                                       \
    X(getspnam, G_SPNAM, L_BYYY) X(getspent, G_SPENT, L_ENT) X(getspent_r, G_SPENT, L_ENT)            \
    X(setspent, G_SPENT, L_ENT) X(endspent, G_SPENT, L_ENT)                                           \
    X(gethostbyname, G_HOSTBYNAME, L_BYYY) X(gethostbyname2, G_HOSTBYNAME2, L_BYYY)                   \
    X(gethostbyaddr, G_HOSTBYADDR, L_BYYY) X(gethostent, G_HOSTENT, L_ENT)                            \
    X(gethostent_r, G_HOSTENT, L_ENT) X(sethostent, G_HOSTENT, L_ENT) X(endhostent, G_HOSTENT, L_ENT) \
    X(getservbyname, G_SERVBYNAME, L_BYYY) X(getservbyport, G_SERVBYPORT, L_BYYY)                     \
    X(getservent, G_SERVENT, L_ENT) X(getservent_r, G_SERVENT, L_ENT) X(setservent, G_SERVENT, L_ENT) \
    X(endservent, G_SERVENT, L_ENT)                                                                   \
    X(getprotobyname, G_PROTOBYNAME, L_BYYY) X(getprotobynumber, G_PROTOBYNUMBER, L_BYYY)             \
    X(getprotoent, G_PROTOENT, L_ENT) X(getprotoent_r, G_PROTOENT, L_ENT)                             \
    X(setprotoent, G_PROTOENT, L_ENT) X(endprotoent, G_PROTOENT, L_ENT)                               \
    X(getnetbyname, G_NETBYNAME, L_BYYY) X(getnetbyaddr, G_NETBYADDR, L_BYYY)                         \
    X(getnetent, G_NETENT, L_ENT) X(getnetent_r, G_NETENT, L_ENT) X(setnetent, G_NETENT, L_ENT)       \
    X(endnetent, G_NETENT, L_ENT)                                                                     \
    X(setnetgrent, G_NETGRENT, "the netgroup lock (inet/getnetgrent_r.c)")                            \
    X(getnetgrent, G_NETGRENT, "the netgroup lock (inet/getnetgrent_r.c)")                            \
    X(getnetgrent_r, G_NETGRENT, "the netgroup lock (inet/getnetgrent_r.c)")                          \
    X(endnetgrent, G_NETGRENT, "the netgroup lock (inet/getnetgrent_r.c)")                            \
    X(setenv, G_ENV, "envlock (stdlib/setenv.c)") X(unsetenv, G_ENV, "envlock (stdlib/setenv.c)")     \
    X(putenv, G_ENV, "envlock (stdlib/setenv.c)") X(clearenv, G_ENV, "envlock (stdlib/setenv.c)")     \
    X(syslog, G_SYSLOG, "syslog_lock (misc/syslog.c)") X(vsyslog, G_SYSLOG, "syslog_lock (misc/syslog.c)") \
    X(__syslog_chk, G_SYSLOG, "syslog_lock (misc/syslog.c)")                                          \
    X(__vsyslog_chk, G_SYSLOG, "syslog_lock (misc/syslog.c)")                                         \
    X(openlog, G_SYSLOG, "syslog_lock (misc/syslog.c)") X(closelog, G_SYSLOG, "syslog_lock (misc/syslog.c)") \
    X(setlogmask, G_SYSLOG, "syslog_lock (misc/syslog.c)")                                            \
    X(tzset, G_TZ, "tzset_lock (time/tzset.c)") X(localtime, G_TZ, "tzset_lock (time/tzset.c)")       \
    X(localtime_r, G_TZ, "tzset_lock (time/tzset.c)") X(gmtime, G_TZ, "tzset_lock (time/tzset.c)")    \
    X(gmtime_r, G_TZ, "tzset_lock (time/tzset.c)") X(mktime, G_TZ, "tzset_lock (time/tzset.c)")       \
    X(timelocal, G_TZ, "tzset_lock (time/tzset.c)") X(timegm, G_TZ, "tzset_lock (time/tzset.c)")      \
    X(ctime, G_TZ, "tzset_lock (time/tzset.c)") X(ctime_r, G_TZ, "tzset_lock (time/tzset.c)")         \
    X(random, G_RANDOM, "the random() lock (stdlib/random.c)")                                        \
    X(srandom, G_RANDOM, "the random() lock (stdlib/random.c)")                                       \
    X(rand, G_RANDOM, "the random() lock (stdlib/random.c)")                                          \
    X(srand, G_RANDOM, "the random() lock (stdlib/random.c)")                                         \
    X(initstate, G_RANDOM, "the random() lock (stdlib/random.c)")                                     \
    X(setstate, G_RANDOM, "the random() lock (stdlib/random.c)")                                      \
    X(setlocale, G_LOCALE, "__libc_setlocale_lock (locale/setlocale.c)")                              \
    X(newlocale, G_LOCALE, "__libc_setlocale_lock (locale/setlocale.c)")                              \
    X(duplocale, G_LOCALE, "__libc_setlocale_lock (locale/setlocale.c)")                              \
    X(freelocale, G_LOCALE, "__libc_setlocale_lock (locale/setlocale.c)")                             \
    X(gettext, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                       \
    X(dgettext, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                      \
    X(dcgettext, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                     \
    X(ngettext, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                      \
    X(dngettext, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                     \
    X(dcngettext, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                    \
    X(textdomain, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                    \
    X(bindtextdomain, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                                \
    X(bind_textdomain_codeset, G_GETTEXT, "_nl_state_lock (intl/dcigettext.c)")                       \
    X(iconv_open, G_ICONV, "__gconv_lock (iconv/gconv_db.c)")                                         \
    X(iconv_close, G_ICONV, "__gconv_lock (iconv/gconv_db.c)")                                        \
    X(setutent, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                      \
    X(getutent, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                      \
    X(getutent_r, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                    \
    X(getutid, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                       \
    X(getutid_r, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(getutline, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(getutline_r, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                   \
    X(pututline, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(endutent, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                      \
    X(utmpname, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                      \
    X(setutxent, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(getutxent, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(getutxid, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                      \
    X(getutxline, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                    \
    X(pututxline, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                    \
    X(endutxent, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(utmpxname, G_UTMP, "__libc_utmp_lock (login/getutent_r.c)")                                     \
    X(popen, G_POPEN, "proc_file_chain_lock (libio/iopopen.c)")                                       \
    X(pclose, G_POPEN, "proc_file_chain_lock (libio/iopopen.c)")

enum {
    C_NONE = 0,
#define CALL_ID(name, group, lock) C_##name,
    CALLS(CALL_ID)
    C_COUNT
};

static const struct fw_call_info call_info[C_COUNT] = {
#define CALL_INFO(name, group, lock) [C_##name] = {#name, group, lock},
    CALLS(CALL_INFO)
};

const struct fw_call_info* fw_call(int id) {
    return id > C_NONE && id < C_COUNT ? &call_info[id] : NULL;
}

// syslog and __syslog_chk are variadic: they forward to the va_list versions, as glibc's
// own do (misc/syslog.c: all four call __vsyslog_internal).
extern void __vsyslog_chk(int, int, const char*, va_list);
extern void __syslog_chk(int, int, const char*, ...);
#define REAL_POINTER(name, group, lock) static __typeof__(&name) real_##name;
CALLS(REAL_POINTER)

void fw_resolve_calls(void) {
#define RESOLVE_CALL(name, group, lock) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name);
    CALLS(RESOLVE_CALL)
}

void fw_resolve_all(void);
#define REAL(name) (FW_LIKELY(real_##name != NULL) ? real_##name : (fw_resolve_all(), real_##name))

// Entering and leaving a call. Only the outermost call counts (a program's NSS module may
// call another of these inside getaddrinfo). `holds`: being inside the call means (for
// most of it) holding its lock; `takes`: the call takes the lock at all. pclose takes it
// only to unlink the stream, then waits for the command outside it; setlocale with a NULL
// locale only reads the current name, before the lock.
struct call_scope {
    struct fw_thread* t;
};

static inline struct call_scope call_enter(int id, bool holds, bool takes, uintptr_t ret) {
    struct call_scope s = {NULL};
    int mode = atomic_load_explicit(&fw_mode, memory_order_relaxed);
    if (mode == FW_MODE_OFF) return s;
    if (FW_UNLIKELY(mode == FW_MODE_CHILD)) fw_child_hook(FW_KIND_LIBC_CALL, NULL, id, takes, ret);
    if (!holds) return s;
    struct fw_thread* t = fw_thread_self();
    if (t == NULL) return s;
    if (t->libc_depth++ == 0) {
        atomic_store_explicit(&t->libc_call_ret, ret, memory_order_relaxed);
        atomic_store_explicit(&t->libc_call, id, memory_order_release);
    }
    s.t = t;
    return s;
}

static inline void call_leave(struct call_scope s) {
    if (s.t != NULL && --s.t->libc_depth == 0) atomic_store_explicit(&s.t->libc_call, 0, memory_order_release);
}

#define RET_ADDR() ((uintptr_t)__builtin_return_address(0))

#define HOOK(ret_t, name, PARAMS, ARGS)                                \
    FW_EXPORT ret_t name PARAMS {                                      \
        struct call_scope s = call_enter(C_##name, true, true, RET_ADDR());  \
        ret_t r = REAL(name) ARGS;                                     \
        call_leave(s);                                                 \
        return r;                                                      \
    }
#define HOOK_VOID(name, PARAMS, ARGS)                                  \
    FW_EXPORT void name PARAMS {                                       \
        struct call_scope s = call_enter(C_##name, true, true, RET_ADDR());  \
        REAL(name) ARGS;                                               \
        call_leave(s);                                                 \
    }

HOOK(int, getaddrinfo,
     (const char* restrict node, const char* restrict service, const struct addrinfo* restrict hints,
      struct addrinfo** restrict res),
     (node, service, hints, res))

HOOK(struct passwd*, getpwnam, (const char* name), (name))
HOOK(struct passwd*, getpwuid, (uid_t uid), (uid))
HOOK(struct passwd*, getpwent, (void), ())
HOOK(int, getpwent_r, (struct passwd* restrict pw, char* restrict buf, size_t len, struct passwd** restrict out),
     (pw, buf, len, out))
HOOK_VOID(setpwent, (void), ())
HOOK_VOID(endpwent, (void), ())

HOOK(struct group*, getgrnam, (const char* name), (name))
HOOK(struct group*, getgrgid, (gid_t gid), (gid))
HOOK(struct group*, getgrent, (void), ())
HOOK(int, getgrent_r, (struct group* restrict gr, char* restrict buf, size_t len, struct group** restrict out),
     (gr, buf, len, out))
HOOK_VOID(setgrent, (void), ())
HOOK_VOID(endgrent, (void), ())

HOOK(struct spwd*, getspnam, (const char* name), (name))
HOOK(struct spwd*, getspent, (void), ())
HOOK(int, getspent_r, (struct spwd* sp, char* buf, size_t len, struct spwd** out), (sp, buf, len, out))
HOOK_VOID(setspent, (void), ())
HOOK_VOID(endspent, (void), ())

HOOK(struct hostent*, gethostbyname, (const char* name), (name))
HOOK(struct hostent*, gethostbyname2, (const char* name, int af), (name, af))
HOOK(struct hostent*, gethostbyaddr, (const void* addr, socklen_t len, int type), (addr, len, type))
HOOK(struct hostent*, gethostent, (void), ())
HOOK(int, gethostent_r,
     (struct hostent* restrict h, char* restrict buf, size_t len, struct hostent** restrict out, int* restrict err),
     (h, buf, len, out, err))
HOOK_VOID(sethostent, (int stay_open), (stay_open))
HOOK_VOID(endhostent, (void), ())

HOOK(struct servent*, getservbyname, (const char* name, const char* proto), (name, proto))
HOOK(struct servent*, getservbyport, (int port, const char* proto), (port, proto))
HOOK(struct servent*, getservent, (void), ())
HOOK(int, getservent_r,
     (struct servent* restrict s_, char* restrict buf, size_t len, struct servent** restrict out),
     (s_, buf, len, out))
HOOK_VOID(setservent, (int stay_open), (stay_open))
HOOK_VOID(endservent, (void), ())

HOOK(struct protoent*, getprotobyname, (const char* name), (name))
HOOK(struct protoent*, getprotobynumber, (int proto), (proto))
HOOK(struct protoent*, getprotoent, (void), ())
HOOK(int, getprotoent_r,
     (struct protoent* restrict p, char* restrict buf, size_t len, struct protoent** restrict out),
     (p, buf, len, out))
HOOK_VOID(setprotoent, (int stay_open), (stay_open))
HOOK_VOID(endprotoent, (void), ())

HOOK(struct netent*, getnetbyname, (const char* name), (name))
HOOK(struct netent*, getnetbyaddr, (uint32_t net, int type), (net, type))
HOOK(struct netent*, getnetent, (void), ())
HOOK(int, getnetent_r,
     (struct netent* restrict n, char* restrict buf, size_t len, struct netent** restrict out, int* restrict err),
     (n, buf, len, out, err))
HOOK_VOID(setnetent, (int stay_open), (stay_open))
HOOK_VOID(endnetent, (void), ())

HOOK(int, setnetgrent, (const char* group), (group))
HOOK(int, getnetgrent, (char** restrict host, char** restrict user, char** restrict domain),
     (host, user, domain))
HOOK(int, getnetgrent_r,
     (char** restrict host, char** restrict user, char** restrict domain, char* restrict buf, size_t len),
     (host, user, domain, buf, len))
HOOK_VOID(endnetgrent, (void), ())

HOOK(int, setenv, (const char* name, const char* value, int replace), (name, value, replace))
HOOK(int, unsetenv, (const char* name), (name))
HOOK(int, putenv, (char* string), (string))
HOOK(int, clearenv, (void), ())

FW_EXPORT void syslog(int pri, const char* fmt, ...) {
    struct call_scope s = call_enter(C_syslog, true, true, RET_ADDR());
    va_list ap;
    va_start(ap, fmt);
    REAL(vsyslog)(pri, fmt, ap);
    va_end(ap);
    call_leave(s);
}
HOOK_VOID(vsyslog, (int pri, const char* fmt, va_list ap), (pri, fmt, ap))
FW_EXPORT void __syslog_chk(int pri, int flag, const char* fmt, ...) {
    struct call_scope s = call_enter(C___syslog_chk, true, true, RET_ADDR());
    va_list ap;
    va_start(ap, fmt);
    REAL(__vsyslog_chk)(pri, flag, fmt, ap);
    va_end(ap);
    call_leave(s);
}
HOOK_VOID(__vsyslog_chk, (int pri, int flag, const char* fmt, va_list ap), (pri, flag, fmt, ap))
HOOK_VOID(openlog, (const char* ident, int option, int facility), (ident, option, facility))
HOOK_VOID(closelog, (void), ())
HOOK(int, setlogmask, (int mask), (mask))

HOOK_VOID(tzset, (void), ())
HOOK(struct tm*, localtime, (const time_t* t), (t))
HOOK(struct tm*, localtime_r, (const time_t* restrict t, struct tm* restrict tm), (t, tm))
HOOK(struct tm*, gmtime, (const time_t* t), (t))
HOOK(struct tm*, gmtime_r, (const time_t* restrict t, struct tm* restrict tm), (t, tm))
HOOK(time_t, mktime, (struct tm * tm), (tm))
HOOK(time_t, timelocal, (struct tm * tm), (tm))
HOOK(time_t, timegm, (struct tm * tm), (tm))
HOOK(char*, ctime, (const time_t* t), (t))
HOOK(char*, ctime_r, (const time_t* restrict t, char* restrict buf), (t, buf))

HOOK(long, random, (void), ())
HOOK_VOID(srandom, (unsigned seed), (seed))
HOOK(int, rand, (void), ())
HOOK_VOID(srand, (unsigned seed), (seed))
HOOK(char*, initstate, (unsigned seed, char* state, size_t n), (seed, state, n))
HOOK(char*, setstate, (char* state), (state))

FW_EXPORT char* setlocale(int category, const char* locale) {
    struct call_scope s = call_enter(C_setlocale, locale != NULL, locale != NULL, RET_ADDR());
    char* r = REAL(setlocale)(category, locale);
    call_leave(s);
    return r;
}
HOOK(locale_t, newlocale, (int mask, const char* locale, locale_t base), (mask, locale, base))
HOOK(locale_t, duplocale, (locale_t l), (l))
HOOK_VOID(freelocale, (locale_t l), (l))

HOOK(char*, gettext, (const char* msgid), (msgid))
HOOK(char*, dgettext, (const char* domain, const char* msgid), (domain, msgid))
HOOK(char*, dcgettext, (const char* domain, const char* msgid, int category), (domain, msgid, category))
HOOK(char*, ngettext, (const char* one, const char* many, unsigned long n), (one, many, n))
HOOK(char*, dngettext, (const char* domain, const char* one, const char* many, unsigned long n),
     (domain, one, many, n))
HOOK(char*, dcngettext,
     (const char* domain, const char* one, const char* many, unsigned long n, int category),
     (domain, one, many, n, category))
HOOK(char*, textdomain, (const char* domain), (domain))
HOOK(char*, bindtextdomain, (const char* domain, const char* dir), (domain, dir))
HOOK(char*, bind_textdomain_codeset, (const char* domain, const char* codeset), (domain, codeset))

HOOK(iconv_t, iconv_open, (const char* to, const char* from), (to, from))
HOOK(int, iconv_close, (iconv_t cd), (cd))

HOOK_VOID(setutent, (void), ())
HOOK(struct utmp*, getutent, (void), ())
HOOK(int, getutent_r, (struct utmp * buf, struct utmp** out), (buf, out))
HOOK(struct utmp*, getutid, (const struct utmp* id), (id))
HOOK(int, getutid_r, (const struct utmp* id, struct utmp* buf, struct utmp** out), (id, buf, out))
HOOK(struct utmp*, getutline, (const struct utmp* line), (line))
HOOK(int, getutline_r, (const struct utmp* line, struct utmp* buf, struct utmp** out), (line, buf, out))
HOOK(struct utmp*, pututline, (const struct utmp* ut), (ut))
HOOK_VOID(endutent, (void), ())
HOOK(int, utmpname, (const char* file), (file))
HOOK_VOID(setutxent, (void), ())
HOOK(struct utmpx*, getutxent, (void), ())
HOOK(struct utmpx*, getutxid, (const struct utmpx* id), (id))
HOOK(struct utmpx*, getutxline, (const struct utmpx* line), (line))
HOOK(struct utmpx*, pututxline, (const struct utmpx* ut), (ut))
HOOK_VOID(endutxent, (void), ())
HOOK(int, utmpxname, (const char* file), (file))

// popen holds proc_file_chain_lock while it spawns the command. Inside pclose is no
// hazard, but a child entering it may wait on the lock a popen-ing thread held.
HOOK(FILE*, popen, (const char* command, const char* mode), (command, mode))
FW_EXPORT int pclose(FILE* stream) {
    struct call_scope s = call_enter(C_pclose, false, true, RET_ADDR());
    int r = REAL(pclose)(stream);
    call_leave(s);
    return r;
}
