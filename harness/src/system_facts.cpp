// SystemFacts from the kernel: Unix sockets through netlink sock_diag, TCP connections
// through /proc/PID/net/tcp{,6}, pending alarms through /proc/timer_list.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "hangar/gil.hpp"
#include "hangar/process_facts.hpp"
#include "hangar/text_file.hpp"

namespace hangar {
namespace {

constexpr unsigned kTcpListen = 10;  // include/net/tcp_states.h

class KernelSystemFacts final : public SystemFacts {
public:
    ~KernelSystemFacts() override {
        if (diag_ >= 0) close(diag_);
    }

    std::optional<UnixSocketFacts> unix_socket(uint64_t inode) override {
        if (auto it = unix_.find(inode); it != unix_.end()) return it->second;
        auto found = query_unix(inode);
        unix_[inode] = found;
        return found;
    }

    std::optional<uint64_t> tcp_peer(pid_t pid, uint64_t inode) override {
        for (const char* table : {"tcp", "tcp6"}) {
            auto lines = read_lines("/proc/" + std::to_string(pid) + "/net/" + table);
            // "sl local_address rem_address st ... uid timeout inode"
            for (const auto& l : lines)
                if (l.inode == inode) {
                    if (l.state != "01") return std::nullopt;  // not established
                    for (const auto& o : lines)
                        if (o.local == l.remote && o.remote == l.local && o.inode) return o.inode;
                    return std::nullopt;  // the other end is not a socket of this machine
                }
        }
        return std::nullopt;
    }

    const AlarmFacts& alarms() override {
        if (alarms_) return *alarms_;
        alarms_.emplace();
        // Root only (mode 0400); large on machines with many CPUs, so read only when the
        // rest of the graph already says the run is stuck.
        std::string text = read_text("/proc/timer_list", 64 << 20);
        alarms_->readable = text.find("Timer List Version") != std::string::npos;
        if (alarms_->readable) alarms_->soonest = soonest_alarm(text);
        return *alarms_;
    }

    bool gil_wait(ProcessFacts& p, uint64_t address) override { return is_gil_wait(p, address); }

    const std::vector<FileLockFacts>& file_locks() override {
        if (!locks_) locks_ = parse_locks(read_text("/proc/locks", 16 << 20));
        return *locks_;
    }

    std::map<std::string, pid_t> held_outside(const std::set<pid_t>& inside, const std::set<std::string>& keys) override {
        std::map<std::string, pid_t> found;
        bool eventfds = false, maps = false, files = false;
        for (const auto& k : keys) {
            eventfds |= k.rfind("eventfd:", 0) == 0;
            files |= k.rfind("file-ino:", 0) == 0;
            maps |= k.rfind("map:", 0) == 0 || k.rfind("zero:", 0) == 0 || files;
        }
        DIR* proc = opendir("/proc");
        if (!proc) return found;
        const pid_t self = getpid();
        while (dirent* e = readdir(proc)) {
            char* end = nullptr;
            const long pid = std::strtol(e->d_name, &end, 10);
            if (pid <= 0 || *end || pid == self || inside.count(static_cast<pid_t>(pid))) continue;
            const std::string dir = "/proc/" + std::string(e->d_name);
            scan_fds(static_cast<pid_t>(pid), dir, keys, eventfds, files, found);
            if (maps) scan_maps(static_cast<pid_t>(pid), dir, keys, found);
            if (found.size() == keys.size()) break;
        }
        closedir(proc);
        return found;
    }

private:
    static void scan_fds(pid_t pid, const std::string& dir, const std::set<std::string>& keys, bool eventfds,
                         bool files, std::map<std::string, pid_t>& found) {
        DIR* fds = opendir((dir + "/fd").c_str());
        if (!fds) return;  // gone, or not ours to read
        char link[256];
        while (dirent* f = readdir(fds)) {
            if (f->d_name[0] == '.') continue;
            const ssize_t n = readlink((dir + "/fd/" + f->d_name).c_str(), link, sizeof link - 1);
            if (n <= 0) continue;
            std::string target(link, static_cast<size_t>(n));
            if (eventfds && target == "anon_inode:[eventfd]") {
                FdFacts facts;
                parse_fdinfo(read_text(dir + "/fdinfo/" + f->d_name, 64 * 1024), facts);
                target = "eventfd:" + std::to_string(facts.eventfd_id);
            } else if (files && target.rfind("/", 0) == 0) {
                struct stat st{};  // a file whose flock or OFD lock the run waits for
                if (stat((dir + "/fd/" + f->d_name).c_str(), &st) == 0 &&
                    keys.count("file-ino:" + std::to_string(st.st_ino)))
                    found.emplace("file-ino:" + std::to_string(st.st_ino), pid);
                if (target.find("(deleted)") == std::string::npos) continue;
                char key[64];
                std::snprintf(key, sizeof key, "map:%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                              static_cast<unsigned long long>(st.st_ino));
                target = key;
            } else if (target.rfind("pipe:", 0) != 0 && target.rfind("socket:", 0) != 0) {
                struct stat st{};  // a memfd or deleted file that a process of the run maps
                if (target.find("(deleted)") == std::string::npos || stat((dir + "/fd/" + f->d_name).c_str(), &st) != 0)
                    continue;
                char key[64];
                std::snprintf(key, sizeof key, "map:%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                              static_cast<unsigned long long>(st.st_ino));
                target = key;
            }
            if (keys.count(target)) found.emplace(target, pid);
        }
        closedir(fds);
    }

    static void scan_maps(pid_t pid, const std::string& dir, const std::set<std::string>& keys,
                          std::map<std::string, pid_t>& found) {
        std::istringstream in(read_text(dir + "/maps", 16 << 20));
        std::string line;
        while (std::getline(in, line)) {
            auto m = parse_maps_line(line);
            if (!m || !m->inode) continue;
            // A mapping keeps its open file, and so a flock on it, alive.
            if (const std::string file = "file-ino:" + std::to_string(m->inode); keys.count(file)) found.emplace(file, pid);
            if (!m->shared()) continue;
            const std::string key = (m->path == "/dev/zero (deleted)" ? "zero:" : "map:") + m->dev + ":" +
                                    std::to_string(m->inode);
            if (keys.count(key)) found.emplace(key, pid);
        }
    }

    struct TcpLine {
        std::string local, remote, state;
        uint64_t inode = 0;
    };

    static std::vector<TcpLine> read_lines(const std::string& file) {
        std::vector<TcpLine> out;
        std::istringstream in(read_text(file));
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream f(line);
            TcpLine l;
            std::string sl, queues, timer, retr, uid, timeout;
            if (f >> sl >> l.local >> l.remote >> l.state >> queues >> timer >> retr >> uid >> timeout >> l.inode)
                out.push_back(std::move(l));
        }
        return out;
    }

    std::optional<UnixSocketFacts> query_unix(uint64_t inode) {
        if (diag_ < 0) {
            diag_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
            if (diag_ < 0) return std::nullopt;
            timeval limit{1, 0};  // the kernel answers at once; a bound all the same
            setsockopt(diag_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        }
        struct {
            nlmsghdr nlh;
            unix_diag_req req;
        } request{};
        request.nlh.nlmsg_len = sizeof request;
        request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        request.nlh.nlmsg_flags = NLM_F_REQUEST;
        request.nlh.nlmsg_seq = ++seq_;
        request.req.sdiag_family = AF_UNIX;
        request.req.udiag_states = ~0u;
        request.req.udiag_ino = static_cast<uint32_t>(inode);
        request.req.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_NAME;
        request.req.udiag_cookie[0] = request.req.udiag_cookie[1] = ~0u;  // INET_DIAG_NOCOOKIE: any
        if (send(diag_, &request, sizeof request, 0) != static_cast<ssize_t>(sizeof request)) return std::nullopt;
        alignas(nlmsghdr) char buf[8192];
        for (;;) {
            ssize_t got = recv(diag_, buf, sizeof buf, 0);
            if (got <= 0) return std::nullopt;
            int n = static_cast<int>(got);
            for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
                if (h->nlmsg_seq != seq_) continue;  // an answer to an earlier, abandoned question
                if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) return std::nullopt;
                if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
                auto* msg = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
                if (msg->udiag_ino != static_cast<uint32_t>(inode)) continue;
                UnixSocketFacts s;
                s.listening = msg->udiag_state == kTcpListen;
                int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
                for (auto* a = reinterpret_cast<rtattr*>(msg + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                    if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
                        uint32_t peer = 0;
                        std::memcpy(&peer, RTA_DATA(a), sizeof peer);
                        s.peer = peer;
                    } else if (a->rta_type == UNIX_DIAG_NAME && RTA_PAYLOAD(a) > 0) {
                        s.named = true;
                    }
                }
                return s;
            }
        }
    }

    int diag_ = -1;
    uint32_t seq_ = 0;
    std::map<uint64_t, std::optional<UnixSocketFacts>> unix_;
    std::optional<AlarmFacts> alarms_;
    std::optional<std::vector<FileLockFacts>> locks_;
};

}  // namespace

std::unique_ptr<SystemFacts> make_system_facts() { return std::make_unique<KernelSystemFacts>(); }

}  // namespace hangar
