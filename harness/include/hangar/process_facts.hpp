// What the wait-for graph needs to know about a process beyond its threads' system calls:
// its open files, memory, mappings and signal state. The /proc implementation reads each
// fact when it is first asked for, once per sample: most samples of a live run end at the
// first running thread and never ask.
//
// An interface, so that the graph's rules can be tested on processes described in a test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hangar {

// A file a process has open, from /proc/PID/fd (the link) and /proc/PID/fdinfo.
struct FdFacts {
    enum class Kind {
        pipe,      // pipe:[N]
        socket,    // socket:[N]
        eventfd,   // anon_inode:[eventfd]
        timerfd,   // anon_inode:[timerfd]
        signalfd,  // anon_inode:[signalfd]
        pidfd,     // anon_inode:[pidfd]
        epoll,     // anon_inode:[eventpoll]
        inotify,   // anon_inode:inotify, fanotify
        path,      // a file system path: a file, a named FIFO, a device, a terminal
        other,     // any other anonymous inode (perf_event, io_uring, userfaultfd, bpf...)
    };
    struct EpollTarget {
        int fd = -1;        // the number it had when it was added (fdinfo "tfd:")
        uint64_t inode = 0;  // the watched file's inode (fdinfo "ino:")
    };

    int fd = -1;
    std::string target;  // the link: "pipe:[8812]", "/tmp/fifo"
    Kind kind = Kind::other;
    uint64_t inode = 0;  // fdinfo's "ino:"; for pipes and sockets also the link's number
    int access = 0;      // O_RDONLY, O_WRONLY or O_RDWR (fdinfo "flags:")
    bool async = false;  // O_ASYNC: the kernel sends the owner SIGIO when it is ready
    bool fifo = false;   // path: a named FIFO
    uint64_t eventfd_id = 0;                     // eventfd: "eventfd-id:" + 1, unique per eventfd; 0 unknown
    std::optional<std::chrono::nanoseconds> timer_left;  // timerfd: armed, expires in this
    pid_t pidfd_pid = 0;                         // pidfd: the process (hangar's view), -1 exited
    std::vector<EpollTarget> epoll;              // epoll: what it watches
};

// One line of /proc/PID/maps.
struct Mapping {
    uint64_t start = 0, end = 0, offset = 0;
    std::string perms;  // "rw-p"
    std::string dev;    // "fe:00"
    uint64_t inode = 0;
    std::string path;   // "" for anonymous memory, "[heap]", "/dev/zero (deleted)"...

    bool shared() const { return perms.size() > 3 && perms[3] == 's'; }
    bool writable() const { return perms.size() > 1 && perms[1] == 'w'; }
    // A file that other processes could open and map by its name now: not anonymous,
    // not deleted, not a memfd or System V segment (those are named "(deleted)" too).
    bool named_file() const;
};

// From /proc/PID/status: signal masks (bit N-1 is signal N) and the tracer.
struct SignalFacts {
    uint64_t caught = 0, ignored = 0, blocked = 0;  // SigCgt, SigIgn, SigBlk (of the main thread)
    pid_t tracer = 0;                               // TracerPid, hangar's view
};

// A socket's options, read from a duplicate of it (pidfd_getfd).
struct SocketFacts {
    int domain = -1, type = -1;
    bool listening = false;
    std::chrono::nanoseconds rcvtimeo{0}, sndtimeo{0};  // 0: none
    std::chrono::milliseconds tcp_user_timeout{0};      // TCP_USER_TIMEOUT, 0: none
};

// The identity of a file: what `stat` gives for its device and inode.
struct FileId {
    uint64_t dev = 0, inode = 0;
    bool operator==(const FileId&) const = default;
    auto operator<=>(const FileId&) const = default;
};

class ProcessFacts {
public:
    virtual ~ProcessFacts() = default;
    // Every open file (an empty list when the process is gone).
    virtual const std::vector<FdFacts>& fds() = 0;
    // Reads `n` bytes of the process's memory at `address`; false when it cannot.
    virtual bool read_memory(uint64_t address, void* out, size_t n) = 0;
    virtual const std::vector<Mapping>& maps() = 0;
    virtual const SignalFacts& signals() = 0;
    // POSIX timers (/proc/PID/timers) whose expiry notifies someone (not SIGEV_NONE).
    virtual int notifying_timers() = 0;
    // The thread's id as the process itself sees it (its own PID namespace): what glibc
    // stores as a mutex's owner, and what wait4's argument names. 0 when unknown.
    virtual pid_t own_tid(pid_t tid) = 0;
    // Whether hangar can read its system calls: a 64-bit process of the machine's own ABI.
    virtual bool native_abi() = 0;
    virtual std::optional<SocketFacts> socket(int fd) = 0;
    // Its executable: path and identity, for interpreter-specific knowledge (the GIL).
    virtual std::optional<FileId> exe() = 0;
    virtual std::string exe_path() = 0;
    // Whether the file that fd `fd` is now is the one an epoll set `epfd` watches as `tfd`
    // (kcmp KCMP_EPOLL_TFD): a number and an anonymous inode do not tell; nullopt when
    // the kernel will not say.
    virtual std::optional<bool> epoll_watches(int epfd, int tfd, int fd) = 0;
    // Whether the process lives in a time namespace whose monotonic or boot-time clock is
    // offset from hangar's (/proc/PID/timens_offsets): its absolute deadlines on those
    // clocks cannot be read on hangar's clock.
    virtual bool clocks_offset() = 0;

    const FdFacts* fd(int n);
    const Mapping* mapping(uint64_t address);
};

// Facts of the machine rather than of one process.
struct UnixSocketFacts {
    uint64_t peer = 0;     // the connected peer's inode, 0 when none
    bool named = false;    // bound to a name (path or abstract): anyone may connect or send
    bool listening = false;
};

struct AlarmFacts {
    bool readable = false;  // /proc/timer_list could be read (root only)
    // The soonest pending alarm()/setitimer(ITIMER_REAL) timer of the whole machine, if any.
    std::optional<std::chrono::nanoseconds> soonest;
};

// A file lock of the machine, from /proc/locks.
struct FileLockFacts {
    std::string kind;     // FLOCK, POSIX, OFDLCK
    pid_t pid = 0;        // who took it (hangar's view); -1 for OFD locks, which belong to an open file
    uint64_t inode = 0;
    bool waiting = false;  // a "->" line: a request blocked on a lock
};

class SystemFacts {
public:
    virtual ~SystemFacts() = default;
    // A Unix socket by inode (netlink sock_diag), nullopt when it cannot be found.
    virtual std::optional<UnixSocketFacts> unix_socket(uint64_t inode) = 0;
    // An established TCP connection's other end, by the inode of one end, as seen in the
    // network namespace of `pid`: the peer socket's inode when the peer is a socket of this
    // machine (loopback), nullopt when it is not, or when it cannot be found.
    virtual std::optional<uint64_t> tcp_peer(pid_t pid, uint64_t inode) = 0;
    virtual const AlarmFacts& alarms() = 0;
    // Every file lock of the machine (/proc/locks).
    virtual const std::vector<FileLockFacts>& file_locks() = 0;
    // Whether a futex word at `address` in process `p` is the condition variable that
    // CPython threads wait on for the GIL (gil.hpp).
    virtual bool gil_wait(ProcessFacts& p, uint64_t address) = 0;
    // Files and memory of the run that a process outside it also holds (a file sent out
    // over a Unix socket, closed since): for each key found, one such process. Keys:
    // "pipe:[N]", "socket:[N]", "eventfd:ID" (fdinfo's eventfd-id), "map:DEV:INODE" (a
    // shared mapping, as /proc/PID/maps names it; "zero:DEV:INODE" for shared anonymous memory), "file-ino:INODE" (a file open or mapped:
    // its flock; any device, which can only find more holders). `inside`: the run's processes, and
    // hangar's own, which are not asked. Processes hangar may not read are not seen.
    virtual std::map<std::string, pid_t> held_outside(const std::set<pid_t>& inside,
                                                      const std::set<std::string>& keys) = 0;
};

// Facts of the processes of one sample, each read at most once.
class FactsSource {
public:
    virtual ~FactsSource() = default;
    virtual ProcessFacts& process(pid_t pid) = 0;
    virtual SystemFacts& system() = 0;
};

// The real thing: /proc, netlink, pidfd_getfd.
class ProcFacts final : public FactsSource {
public:
    ProcFacts();
    ~ProcFacts() override;
    ProcessFacts& process(pid_t pid) override;
    SystemFacts& system() override;

private:
    std::map<pid_t, std::unique_ptr<ProcessFacts>> processes_;
    std::unique_ptr<SystemFacts> system_;
};

// Parsers, exposed for tests.
FdFacts::Kind fd_kind(const std::string& link);
// Reads an fdinfo text into `f` (flags, ino, and what its kind adds).
void parse_fdinfo(const std::string& text, FdFacts& f);
std::optional<Mapping> parse_maps_line(const std::string& line);
// The locks of a /proc/locks text.
std::vector<FileLockFacts> parse_locks(const std::string& text);
// The soonest `it_real_fn` expiry in a /proc/timer_list text.
std::optional<std::chrono::nanoseconds> soonest_alarm(const std::string& timer_list);

}  // namespace hangar
