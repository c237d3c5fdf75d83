#include "hangar/process_facts.hpp"

#include <linux/kcmp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "hangar/text_file.hpp"

namespace hangar {
namespace {

std::string proc_path(pid_t pid, const std::string& rest) { return "/proc/" + std::to_string(pid) + "/" + rest; }

// "pipe:[8812]" -> 8812
uint64_t bracket_number(const std::string& link) {
    auto open = link.find('[');
    if (open == std::string::npos) return 0;
    return std::strtoull(link.c_str() + open + 1, nullptr, 10);
}

std::string readlink_text(const std::string& path) {
    char buf[4096];
    ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

uint64_t hex_field(const std::string& line, const char* name) {
    auto at = line.find(name);
    if (at == std::string::npos) return 0;
    return std::strtoull(line.c_str() + at + std::strlen(name), nullptr, 16);
}

class ProcProcess final : public ProcessFacts {
public:
    explicit ProcProcess(pid_t pid) : pid_(pid) {}
    ~ProcProcess() override {
        if (mem_fd_ >= 0) close(mem_fd_);
        if (pidfd_ >= 0) close(pidfd_);
    }

    const std::vector<FdFacts>& fds() override {
        if (fds_) return *fds_;
        fds_.emplace();
        const std::string dir = proc_path(pid_, "fd");
        DIR* d = opendir(dir.c_str());
        if (!d) return *fds_;
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            FdFacts f;
            f.fd = std::atoi(e->d_name);
            f.target = readlink_text(dir + "/" + e->d_name);
            if (f.target.empty()) continue;  // closed meanwhile
            f.kind = fd_kind(f.target);
            if (f.kind == FdFacts::Kind::pipe || f.kind == FdFacts::Kind::socket) f.inode = bracket_number(f.target);
            parse_fdinfo(read_text(proc_path(pid_, "fdinfo/") + e->d_name, 64 * 1024), f);
            if (f.kind == FdFacts::Kind::path) {
                struct stat st{};
                f.fifo = stat((dir + "/" + e->d_name).c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
            }
            fds_->push_back(std::move(f));
        }
        closedir(d);
        return *fds_;
    }

    bool read_memory(uint64_t address, void* out, size_t n) override {
        if (mem_fd_ == -1) mem_fd_ = open(proc_path(pid_, "mem").c_str(), O_RDONLY | O_CLOEXEC);
        if (mem_fd_ < 0) {
            mem_fd_ = -2;  // tried
            return false;
        }
        if (mem_fd_ == -2) return false;
        return pread(mem_fd_, out, n, static_cast<off_t>(address)) == static_cast<ssize_t>(n);
    }

    const std::vector<Mapping>& maps() override {
        if (maps_) return *maps_;
        maps_.emplace();
        std::istringstream in(read_text(proc_path(pid_, "maps")));
        std::string line;
        while (std::getline(in, line))
            if (auto m = parse_maps_line(line)) maps_->push_back(std::move(*m));
        return *maps_;
    }

    const SignalFacts& signals() override {
        if (signals_) return *signals_;
        signals_.emplace();
        std::istringstream in(read_text(proc_path(pid_, "status")));
        std::string line;
        while (std::getline(in, line)) {
            auto hex = [&](const char* key) { return std::strtoull(line.c_str() + std::strlen(key), nullptr, 16); };
            if (line.rfind("SigCgt:", 0) == 0) signals_->caught = hex("SigCgt:");
            else if (line.rfind("SigIgn:", 0) == 0) signals_->ignored = hex("SigIgn:");
            else if (line.rfind("SigBlk:", 0) == 0) signals_->blocked = hex("SigBlk:");
            else if (line.rfind("TracerPid:", 0) == 0)
                signals_->tracer = static_cast<pid_t>(std::atol(line.c_str() + std::strlen("TracerPid:")));
        }
        return *signals_;
    }

    std::optional<bool> epoll_watches(int epfd, int tfd, int fd) override {
        kcmp_epoll_slot slot{static_cast<__u32>(epfd), static_cast<__u32>(tfd), 0};
        long r = syscall(SYS_kcmp, pid_, pid_, KCMP_EPOLL_TFD, fd, reinterpret_cast<unsigned long>(&slot));
        if (r < 0) return std::nullopt;
        return r == 0;
    }

    bool clocks_offset() override {
        if (clocks_offset_) return *clocks_offset_;
        // "monotonic 100000 0\nboottime 0 0"; absent before Linux 5.6 (no time namespaces).
        std::istringstream in(read_text(proc_path(pid_, "timens_offsets")));
        std::string clock;
        long long s = 0, ns = 0;
        clocks_offset_ = false;
        while (in >> clock >> s >> ns)
            if (s != 0 || ns != 0) clocks_offset_ = true;
        return *clocks_offset_;
    }

    int notifying_timers() override {
        if (timers_) return *timers_;
        // "ID: 0 / signal: 14/... / notify: signal/pid.12 / ClockID: 1" per timer.
        int n = 0;
        std::istringstream in(read_text(proc_path(pid_, "timers")));
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("notify:", 0) == 0 && line.find("none") == std::string::npos) ++n;
        timers_ = n;
        return n;
    }

    pid_t own_tid(pid_t tid) override {
        if (auto it = own_tids_.find(tid); it != own_tids_.end()) return it->second;
        // "NSpid:\t4242\t7": hangar's view first, the innermost namespace's last.
        pid_t own = 0;
        std::istringstream in(read_text(proc_path(pid_, "task/" + std::to_string(tid) + "/status")));
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("NSpid:", 0) == 0) {
                std::istringstream ids(line.substr(6));
                for (pid_t id; ids >> id;) own = id;
            }
        own_tids_[tid] = own;
        return own;
    }

    bool native_abi() override {
        if (native_) return *native_;
        // The ELF class of the executable: /proc/TID/syscall holds the numbers of the
        // process's own ABI, and those of a 32-bit process mean other calls.
        unsigned char ident[5] = {};
        int fd = open(proc_path(pid_, "exe").c_str(), O_RDONLY | O_CLOEXEC);
        bool ok = fd >= 0 && read(fd, ident, sizeof ident) == static_cast<ssize_t>(sizeof ident);
        if (fd >= 0) close(fd);
        native_ = ok && std::memcmp(ident, "\x7f" "ELF", 4) == 0 && ident[4] == (sizeof(void*) == 8 ? 2 : 1);
        return *native_;
    }

    std::optional<SocketFacts> socket(int fd) override {
        // A duplicate of the socket, for getsockopt: the timeouts live in the socket, not in
        // the call's arguments. Closing the duplicate leaves the process's socket as it was.
        if (pidfd_ == -1) pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd_ < 0) return std::nullopt;
        int dup = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd_, fd, 0));
        if (dup < 0) return std::nullopt;
        SocketFacts s;
        socklen_t len = sizeof(int);
        int listening = 0;
        bool ok = getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &s.domain, &len) == 0;
        len = sizeof(int);
        ok = ok && getsockopt(dup, SOL_SOCKET, SO_TYPE, &s.type, &len) == 0;
        len = sizeof(int);
        if (getsockopt(dup, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0) s.listening = listening != 0;
        timeval tv{};
        len = sizeof tv;
        ok = ok && getsockopt(dup, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0;
        s.rcvtimeo = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
        tv = {};
        len = sizeof tv;
        ok = ok && getsockopt(dup, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0;
        s.sndtimeo = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
        if ((s.domain == AF_INET || s.domain == AF_INET6) && s.type == SOCK_STREAM) {
            // The kernel aborts a connection whose sent data stays unacknowledged this long.
            unsigned int ms = 0;
            len = sizeof ms;
            if (getsockopt(dup, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, &len) == 0) s.tcp_user_timeout = std::chrono::milliseconds(ms);
        }
        close(dup);
        if (!ok) return std::nullopt;
        return s;
    }

    std::optional<FileId> exe() override {
        struct stat st{};
        if (stat(proc_path(pid_, "exe").c_str(), &st) != 0) return std::nullopt;
        return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
    }

    std::string exe_path() override { return readlink_text(proc_path(pid_, "exe")); }

private:
    pid_t pid_;
    int mem_fd_ = -1, pidfd_ = -1;
    std::optional<std::vector<FdFacts>> fds_;
    std::optional<std::vector<Mapping>> maps_;
    std::optional<SignalFacts> signals_;
    std::optional<int> timers_;
    std::optional<bool> clocks_offset_;
    std::optional<bool> native_;
    std::map<pid_t, pid_t> own_tids_;
};

}  // namespace

std::unique_ptr<SystemFacts> make_system_facts();  // system_facts.cpp

bool Mapping::named_file() const {
    if (path.empty() || path[0] != '/') return false;
    // System V segments ("/SYSV0000002a (deleted)") can be attached by id from anywhere.
    if (path.rfind("/SYSV", 0) == 0) return true;
    if (path.rfind("/memfd:", 0) == 0) return false;
    const std::string deleted = " (deleted)";
    return !(path.size() > deleted.size() && path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0);
}

const FdFacts* ProcessFacts::fd(int n) {
    for (const auto& f : fds())
        if (f.fd == n) return &f;
    return nullptr;
}

const Mapping* ProcessFacts::mapping(uint64_t address) {
    for (const auto& m : maps())
        if (address >= m.start && address < m.end) return &m;
    return nullptr;
}

FdFacts::Kind fd_kind(const std::string& link) {
    using K = FdFacts::Kind;
    if (link.rfind("pipe:[", 0) == 0) return K::pipe;
    if (link.rfind("socket:[", 0) == 0) return K::socket;
    if (!link.empty() && link[0] == '/') return K::path;
    if (link == "anon_inode:[eventfd]") return K::eventfd;
    if (link == "anon_inode:[timerfd]") return K::timerfd;
    if (link == "anon_inode:[signalfd]") return K::signalfd;
    if (link == "anon_inode:[pidfd]") return K::pidfd;
    if (link == "anon_inode:[eventpoll]") return K::epoll;
    if (link == "anon_inode:inotify" || link == "anon_inode:[fanotify]") return K::inotify;
    return K::other;
}

void parse_fdinfo(const std::string& text, FdFacts& f) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags:", 0) == 0) {
            unsigned long flags = std::strtoul(line.c_str() + 6, nullptr, 8);
            f.access = static_cast<int>(flags & O_ACCMODE);
            f.async = (flags & O_ASYNC) != 0;
        } else if (line.rfind("ino:", 0) == 0) {
            f.inode = std::strtoull(line.c_str() + 4, nullptr, 10);
        } else if (line.rfind("eventfd-id:", 0) == 0) {
            f.eventfd_id = std::strtoull(line.c_str() + 11, nullptr, 10) + 1;  // ids start at 0
        } else if (line.rfind("it_value:", 0) == 0) {
            long long sec = 0, nsec = 0;  // "it_value: (0, 999768452)": left until the next expiry
            if (std::sscanf(line.c_str(), "it_value: (%lld, %lld)", &sec, &nsec) == 2 && (sec || nsec))
                f.timer_left = std::chrono::seconds(sec) + std::chrono::nanoseconds(nsec);
        } else if (line.rfind("Pid:", 0) == 0) {
            f.pidfd_pid = static_cast<pid_t>(std::atol(line.c_str() + 4));
        } else if (line.rfind("tfd:", 0) == 0) {
            // "tfd:        3 events:       19 data:    3  pos:0 ino:53030e sdev:f"
            FdFacts::EpollTarget t;
            t.fd = std::atoi(line.c_str() + 4);
            t.inode = hex_field(line, " ino:");
            f.epoll.push_back(t);
        }
    }
}

std::optional<Mapping> parse_maps_line(const std::string& line) {
    // "00400000-0041f000 r--p 00000000 fe:00 247970      /usr/bin/python3.11"
    Mapping m;
    char perms[8] = {}, dev[16] = {};
    unsigned long long start = 0, end = 0, offset = 0, inode = 0;
    int consumed = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms, &offset, dev, &inode,
                    &consumed) < 6)
        return std::nullopt;
    m.start = start;
    m.end = end;
    m.offset = offset;
    m.perms = perms;
    m.dev = dev;
    m.inode = inode;
    if (consumed > 0 && static_cast<size_t>(consumed) < line.size()) m.path = line.substr(static_cast<size_t>(consumed));
    while (!m.path.empty() && m.path.front() == ' ') m.path.erase(0, 1);
    return m;
}

std::vector<FileLockFacts> parse_locks(const std::string& text) {
    // "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF", a waiter "1: -> FLOCK  ...".
    std::vector<FileLockFacts> locks;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string id, kind, mode, access, pid, file;
        FileLockFacts l;
        if (!(words >> id >> kind)) continue;
        if (kind == "->") {
            l.waiting = true;
            if (!(words >> kind)) continue;
        }
        if (!(words >> mode >> access >> pid >> file)) continue;
        l.kind = kind;
        l.pid = static_cast<pid_t>(std::atol(pid.c_str()));
        const size_t colon = file.rfind(':');
        if (colon == std::string::npos) continue;
        l.inode = std::strtoull(file.c_str() + colon + 1, nullptr, 10);
        locks.push_back(std::move(l));
    }
    return locks;
}

std::optional<std::chrono::nanoseconds> soonest_alarm(const std::string& timer_list) {
    // " #8: <0000000007a9c567>, it_real_fn, S:01"
    // " # expires at 4927626430582-4927626480582 nsecs [in 1203393 to 1253393 nsecs]"
    std::optional<std::chrono::nanoseconds> soonest;
    std::istringstream in(timer_list);
    std::string line;
    bool next_is_it = false;
    while (std::getline(in, line)) {
        if (line.find(", it_real_fn,") != std::string::npos) {
            next_is_it = true;
            continue;
        }
        if (!next_is_it) continue;
        next_is_it = false;
        auto at = line.find("[in ");
        if (at == std::string::npos) continue;
        long long in_ns = std::strtoll(line.c_str() + at + 4, nullptr, 10);
        std::chrono::nanoseconds left(in_ns);
        if (!soonest || left < *soonest) soonest = left;
    }
    return soonest;
}

ProcFacts::ProcFacts() = default;
ProcFacts::~ProcFacts() = default;

ProcessFacts& ProcFacts::process(pid_t pid) {
    auto& p = processes_[pid];
    if (!p) p = std::make_unique<ProcProcess>(pid);
    return *p;
}

SystemFacts& ProcFacts::system() {
    if (!system_) system_ = make_system_facts();
    return *system_;
}

}  // namespace hangar
