// fw_scenario: the native program the forkwatch tests run under LD_PRELOAD. Each mode sets
// up one situation at a fork (a thread holding a lock, a thread inside getaddrinfo,
// nothing held, threads hammering locks), forks, and prints what the test needs to check
// the records against as `key=value` lines on stdout. Built with -rdynamic so the holding
// functions have names in the stacks. Threads hand over with pipes, never with sleeps.
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <nss.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// A one-way signal between threads (or processes) through a pipe.
struct Gate {
    int fds[2];
    Gate() {
        if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
    }
    void open() {
        char c = 1;
        if (write(fds[1], &c, 1) != 1) std::abort();
    }
    void wait() {
        char c;
        while (read(fds[0], &c, 1) < 0) {
        }
    }
};

pid_t gettid_() { return static_cast<pid_t>(syscall(SYS_gettid)); }

void name_thread(const char* name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

// The child's first interposed call: a lock of its own, which nobody else ever held.
void child_touch_fresh_lock() {
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&fresh);
    pthread_mutex_unlock(&fresh);
}

int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return status;
}

void print_status(const char* key, int status) {
    if (WIFEXITED(status)) std::printf("%s=exit:%d\n", key, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) std::printf("%s=signal:%d\n", key, WTERMSIG(status));
    std::fflush(stdout);
}

pthread_mutex_t held_mutex = PTHREAD_MUTEX_INITIALIZER;
std::mutex held_std_mutex;
pthread_rwlock_t held_rwlock = PTHREAD_RWLOCK_INITIALIZER;
Gate holding, release;

}  // namespace

// The holding functions: the stack test looks for their names.
extern "C" __attribute__((noinline)) void fw_hold_mutex() {
    pthread_mutex_lock(&held_mutex);
    holding.open();
    release.wait();
    pthread_mutex_unlock(&held_mutex);
}

extern "C" __attribute__((noinline)) void fw_hold_std_mutex() {
    std::lock_guard<std::mutex> guard(held_std_mutex);
    holding.open();
    release.wait();
}

extern "C" __attribute__((noinline)) void fw_hold_rwlock_read() {
    pthread_rwlock_rdlock(&held_rwlock);
    holding.open();
    release.wait();
    pthread_rwlock_unlock(&held_rwlock);
}

extern "C" __attribute__((noinline)) void fw_hold_nothing() {
    holding.open();
    release.wait();
}

namespace {

// Starts `body` on a thread named `name`, returns once it holds what it holds.
std::thread start_holder(const char* name, void (*body)()) {
    std::thread t([name, body] {
        name_thread(name);
        std::printf("holder_tid=%d\n", gettid_());
        std::fflush(stdout);
        body();
    });
    holding.wait();
    return t;
}

// A fork while `holder` holds its lock; the child does `child` and exits with its result.
int fork_while(const char* name, void (*body)(), int (*child)()) {
    std::thread t = start_holder(name, body);
    std::printf("mutex=%p\nstd_mutex=%p\nrwlock=%p\n", static_cast<void*>(&held_mutex),
                static_cast<void*>(&held_std_mutex), static_cast<void*>(&held_rwlock));
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(child());
    std::printf("child=%d\n", pid);
    std::fflush(stdout);
    print_status("child_status", wait_child(pid));
    release.open();
    t.join();
    return 0;
}

int child_fresh_lock() {
    child_touch_fresh_lock();
    return 0;
}

int child_exec() {
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    return 127;
}

int child_exit() { return 0; }

// Blocks forever on the mutex the holder had at the fork; the test kills it.
int child_lock_inherited() {
    pthread_mutex_lock(&held_mutex);
    std::printf("child got the inherited mutex\n");
    return 3;
}

int child_reinit_then_lock() {
    pthread_mutex_init(&held_mutex, nullptr);
    pthread_mutex_lock(&held_mutex);
    pthread_mutex_unlock(&held_mutex);
    return 0;
}

// A reader does not wait for a reader: no inherited_wait, and the child gets through.
int child_read_lock_inherited() {
    pthread_rwlock_rdlock(&held_rwlock);
    pthread_rwlock_unlock(&held_rwlock);
    return 0;
}

// getaddrinfo through libnss_fwtest.so.2 (beside this binary), whose lookup in this
// process blocks until released, so a thread is inside getaddrinfo for as long as needed.
using Configure = void (*)(int, int);
bool use_fwtest_hosts(Gate& entered, Gate& leave) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) return false;
    std::string path(exe, static_cast<size_t>(n));
    path = path.substr(0, path.rfind('/') + 1) + "libnss_fwtest.so.2";
    void* module = dlopen(path.c_str(), RTLD_NOW);
    if (module == nullptr) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return false;
    }
    auto configure = reinterpret_cast<Configure>(dlsym(module, "fwtest_configure"));
    if (configure == nullptr) return false;
    configure(entered.fds[1], leave.fds[0]);
    return __nss_configure_lookup("hosts", "fwtest") == 0;
}

int child_getaddrinfo() {
    addrinfo* res = nullptr;
    int r = getaddrinfo("localhost", nullptr, nullptr, &res);  // the module answers at once here
    if (r == 0) freeaddrinfo(res);
    return 0;
}

int fork_inside_getaddrinfo(int (*child)()) {
    Gate entered, leave;
    if (!use_fwtest_hosts(entered, leave)) return 2;
    std::thread t([] {
        name_thread("resolver");
        std::printf("holder_tid=%d\n", gettid_());
        std::fflush(stdout);
        addrinfo* res = nullptr;
        if (getaddrinfo("localhost", "80", nullptr, &res) == 0) freeaddrinfo(res);
    });
    entered.wait();
    pid_t pid = fork();
    if (pid == 0) _exit(child());
    std::printf("child=%d\n", pid);
    std::fflush(stdout);
    print_status("child_status", wait_child(pid));
    leave.open();
    t.join();
    return 0;
}

// The real path: two threads resolve "localhost" through /etc/nsswitch.conf in a loop
// (NULL hints: AI_ADDRCONFIG, so __check_pf's lock), the main thread forks `forks` times;
// each child exits at once after one lock of its own. Most forks find a resolver inside.
int fork_while_resolving(int forks) {
    std::atomic<bool> stop{false};
    std::atomic<int> resolved{0};
    std::vector<std::thread> resolvers;
    for (int i = 0; i < 2; i++)
        resolvers.emplace_back([&] {
            name_thread("resolver");
            while (!stop.load()) {
                addrinfo* res = nullptr;
                if (getaddrinfo("localhost", nullptr, nullptr, &res) == 0) freeaddrinfo(res);
                resolved++;
            }
        });
    while (resolved.load() == 0) std::this_thread::yield();  // both loops are running
    int ok = 0;
    for (int k = 0; k < forks; k++) {
        pid_t pid = fork();
        if (pid == 0) _exit(child_fresh_lock());
        int status = wait_child(pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ok++;
    }
    stop = true;
    for (auto& t : resolvers) t.join();
    std::printf("forks=%d ok=%d\n", forks, ok);
    return ok == forks ? 0 : 1;
}

// Many forks while 4 threads take and release mutexes, rwlocks and semaphores; each child
// takes locks of its own and exits. A child that does not exit within 10 s is a failure
// (killed, counted). forkers > 1: that many threads fork at the same time.
int stress(int forks, int forkers) {
    std::atomic<bool> stop{false};
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    sem_t s;
    sem_init(&s, 0, 1);
    std::vector<std::thread> hammers;
    for (int i = 0; i < 4; i++)
        hammers.emplace_back([&, i] {
            name_thread("hammer");
            while (!stop.load(std::memory_order_relaxed)) {
                pthread_mutex_lock(&m);
                pthread_mutex_unlock(&m);
                if (i % 2) {
                    pthread_rwlock_rdlock(&rw);
                    pthread_rwlock_unlock(&rw);
                } else {
                    pthread_rwlock_wrlock(&rw);
                    pthread_rwlock_unlock(&rw);
                }
                sem_wait(&s);
                sem_post(&s);
            }
        });
    std::atomic<int> ok{0}, hung{0}, failed{0};
    auto fork_loop = [&](int count) {
        for (int k = 0; k < count; k++) {
            pid_t pid = fork();
            if (pid == 0) {
                pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER;
                sem_t mine_sem;
                sem_init(&mine_sem, 0, 1);
                pthread_mutex_lock(&mine);
                sem_wait(&mine_sem);
                sem_post(&mine_sem);
                pthread_mutex_unlock(&mine);
                _exit(0);
            }
            if (pid < 0) {
                failed++;
                continue;
            }
            int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
            pollfd p{pidfd, POLLIN, 0};
            if (pidfd < 0 || poll(&p, 1, 10000) != 1) {
                kill(pid, SIGKILL);
                hung++;
            }
            if (pidfd >= 0) close(pidfd);
            int status = wait_child(pid);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ok++;
            else if (!WIFSIGNALED(status)) failed++;
        }
    };
    std::vector<std::thread> forking;
    for (int f = 0; f < forkers; f++) forking.emplace_back(fork_loop, forks / forkers);
    for (auto& t : forking) t.join();
    stop = true;
    for (auto& t : hammers) t.join();
    std::printf("forks=%d ok=%d hung=%d failed=%d\n", forks, ok.load(), hung.load(), failed.load());
    return hung == 0 && failed == 0 && ok == forks ? 0 : 1;
}

// What a program can see of the library: its descriptors and real-time signal handlers.
void print_process_state(const char* who) {
    std::string fds;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) fds += std::string(e->d_name) + ",";
        closedir(d);
    }
    std::string handlers;
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++) {
        struct sigaction sa;
        sigaction(sig, nullptr, &sa);
        if (sa.sa_handler != SIG_DFL) handlers += std::to_string(sig) + ",";
    }
    std::printf("%s_fds=%s\n%s_rt_handlers=%s\n", who, fds.c_str(), who, handlers.c_str());
    std::fflush(stdout);
}

// The holder waits in pthread_cond_wait: glibc released its mutex inside the wait, so it
// holds nothing; the main thread takes and drops the mutex to know the wait has begun.
int fork_during_cond_wait() {
    static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    static bool done = false;
    std::thread t = start_holder("waiter", [] {
        pthread_mutex_lock(&held_mutex);
        holding.open();
        while (!done) pthread_cond_wait(&cond, &held_mutex);
        pthread_mutex_unlock(&held_mutex);
    });
    pthread_mutex_lock(&held_mutex);
    pthread_mutex_unlock(&held_mutex);
    pid_t pid = fork();
    if (pid == 0) _exit(child_fresh_lock());
    std::printf("child=%d\n", pid);
    print_status("child_status", wait_child(pid));
    pthread_mutex_lock(&held_mutex);
    done = true;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&held_mutex);
    t.join();
    return 0;
}

// Forks each time a line arrives on stdin, while the holder keeps the mutex; the test
// stops the holder thread (ptrace) around the first fork so its stack comes late.
int fork_on_request() {
    std::thread t = start_holder("holder", fw_hold_mutex);
    std::printf("mutex=%p\n", static_cast<void*>(&held_mutex));
    std::fflush(stdout);
    char line[64];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
        pid_t pid = fork();
        if (pid == 0) _exit(child_fresh_lock());
        std::printf("child=%d\n", pid);
        print_status("child_status", wait_child(pid));
    }
    release.open();
    t.join();
    return 0;
}

int behaviour() {
    print_process_state("start");
    fork_while("holder", fw_hold_mutex, child_fresh_lock);
    print_process_state("end");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "mutex") return fork_while("holder", fw_hold_mutex, child_fresh_lock);
    if (mode == "std-mutex") return fork_while("holder", fw_hold_std_mutex, child_fresh_lock);
    if (mode == "rwlock-read") return fork_while("reader", fw_hold_rwlock_read, child_fresh_lock);
    if (mode == "nothing") return fork_while("idle", fw_hold_nothing, child_fresh_lock);
    if (mode == "exec") return fork_while("holder", fw_hold_mutex, child_exec);
    if (mode == "exit") return fork_while("holder", fw_hold_mutex, child_exit);
    if (mode == "inherited") return fork_while("holder", fw_hold_mutex, child_lock_inherited);
    if (mode == "reinit") return fork_while("holder", fw_hold_mutex, child_reinit_then_lock);
    if (mode == "rwlock-read-inherited") return fork_while("reader", fw_hold_rwlock_read, child_read_lock_inherited);
    if (mode == "escape") return fork_while("q\"b\\s\x01\xff", fw_hold_mutex, child_fresh_lock);
    if (mode == "cond-wait") return fork_during_cond_wait();
    if (mode == "getaddrinfo") return fork_inside_getaddrinfo(child_fresh_lock);
    if (mode == "getaddrinfo-inherited") return fork_inside_getaddrinfo(child_getaddrinfo);
    if (mode == "getaddrinfo-loop") return fork_while_resolving(argc > 2 ? atoi(argv[2]) : 50);
    if (mode == "stress") return stress(argc > 2 ? atoi(argv[2]) : 500, argc > 3 ? atoi(argv[3]) : 1);
    if (mode == "behaviour") return behaviour();
    if (mode == "fork-on-request") return fork_on_request();
    std::fprintf(stderr,
                 "usage: fw_scenario MODE\n"
                 "modes: mutex std-mutex rwlock-read nothing exec exit inherited reinit\n"
                 "       rwlock-read-inherited cond-wait escape getaddrinfo getaddrinfo-inherited\n"
                 "       getaddrinfo-loop [FORKS]\n"
                 "       stress [FORKS [FORKERS]] behaviour fork-on-request\n");
    return 2;
}
