#include "pid_watch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
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

PidFifo::PidFifo() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hangar-fifo-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ / "pids";
    if (mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
    // Opened read-write so that reads block for the next writer instead of seeing EOF
    // between two writers.
    fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
}

PidFifo::~PidFifo() {
    close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::vector<int> PidFifo::read_pidfds(int count) {
    std::vector<int> pidfds;
    std::string pending;
    char buf[64];
    while (static_cast<int>(pidfds.size()) < count) {
        // A process that never reports must fail the test, not hang it.
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 30000) != 1) break;
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            pid_t pid = static_cast<pid_t>(std::atol(pending.substr(0, nl).c_str()));
            pending.erase(0, nl + 1);
            pidfds.push_back(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
        }
    }
    return pidfds;
}

bool ended_within(int pidfd, int timeout_ms) {
    if (pidfd < 0) return true;  // could not be opened: already gone
    pollfd p{pidfd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
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
