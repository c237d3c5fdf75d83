#include "pid_watch.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hangar::testing {

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hangar-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

PidReports::PidReports() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hangar-pids-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ / "pids";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.string().size() >= sizeof addr.sun_path) throw std::runtime_error("socket failed");
    std::strcpy(addr.sun_path, path_.c_str());
    int on = 1;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
        throw std::runtime_error("cannot bind the PID report socket");
}

PidReports::~PidReports() {
    close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::vector<int> PidReports::read_pidfds(int count) {
    std::vector<int> pidfds;
    while (static_cast<int>(pidfds.size()) < count) {
        // A process that never reports must fail the test, not hang it.
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 30000) != 1) break;
        char byte;
        iovec iov{&byte, 1};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        if (recvmsg(fd_, &msg, 0) < 0) break;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_CREDENTIALS) break;
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        pidfds.push_back(static_cast<int>(syscall(SYS_pidfd_open, cred.pid, 0)));
    }
    return pidfds;
}

bool ended_within(int pidfd, int timeout_ms) {
    if (pidfd < 0) return true;  // could not be opened: already gone
    pollfd p{pidfd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
}

int wait_status(ProcessTree& tree) {
    auto status = tree.collect();
    EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().message);
    return status.ok() ? *status : -1;
}

std::string slurp(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

nlohmann::json read_json(const std::filesystem::path& file) { return nlohmann::json::parse(slurp(file)); }

CommandSpec tree_maker(const TempDir& dir, std::vector<std::string> args, std::vector<std::string> extra_env) {
    CommandSpec spec;
    spec.argv = {TREE_MAKER};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.environment = current_environment();
    spec.environment.insert(spec.environment.end(), extra_env.begin(), extra_env.end());
    spec.stdout_path = dir.path() / "stdout.txt";
    spec.stderr_path = dir.path() / "stderr.txt";
    return spec;
}

}  // namespace hangar::testing
