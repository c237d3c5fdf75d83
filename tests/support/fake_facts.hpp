// Test support: processes described in a test instead of read from /proc, for the rules of
// the wait-for graph (wait_graph.hpp) and of stall detection.
#pragma once

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hangar/process_facts.hpp"
#include "hangar/proc_tree.hpp"

namespace hangar::testing {

class FakeProcess final : public ProcessFacts {
public:
    std::vector<FdFacts> files;
    std::vector<Mapping> mappings;
    SignalFacts signal_state;
    int timers = 0;
    std::map<pid_t, pid_t> own;              // hangar's tid -> the process's own view
    std::map<uint64_t, std::vector<uint8_t>> memory;  // address -> bytes there
    std::map<int, SocketFacts> sockets;
    bool abi = true;

    const std::vector<FdFacts>& fds() override { return files; }
    bool read_memory(uint64_t address, void* out, size_t n) override {
        for (const auto& [at, bytes] : memory)
            if (address >= at && address + n <= at + bytes.size()) {
                std::memcpy(out, bytes.data() + (address - at), n);
                return true;
            }
        return false;
    }
    const std::vector<Mapping>& maps() override { return mappings; }
    const SignalFacts& signals() override { return signal_state; }
    int notifying_timers() override { return timers; }
    pid_t own_tid(pid_t tid) override {
        auto it = own.find(tid);
        return it == own.end() ? tid : it->second;
    }
    bool native_abi() override { return abi; }
    std::optional<SocketFacts> socket(int fd) override {
        auto it = sockets.find(fd);
        if (it == sockets.end()) return std::nullopt;
        return it->second;
    }
    std::optional<FileId> exe() override { return FileId{1, 1}; }
    std::string exe_path() override { return "/usr/bin/fake"; }
    std::optional<bool> epoll_watches(int, int, int) override { return epoll_same; }
    bool clocks_offset() override { return time_offset; }
    std::optional<bool> epoll_same = true;  // what kcmp would say
    bool time_offset = false;

    template <class T>
    void put(uint64_t address, const T& value) {
        std::vector<uint8_t> bytes(sizeof value);
        std::memcpy(bytes.data(), &value, sizeof value);
        memory[address] = bytes;
    }
    void pipe_end(int fd, uint64_t inode, int access) {
        FdFacts f;
        f.fd = fd;
        f.target = "pipe:[" + std::to_string(inode) + "]";
        f.kind = FdFacts::Kind::pipe;
        f.inode = inode;
        f.access = access;
        files.push_back(f);
    }
};

class FakeSystem final : public SystemFacts {
public:
    std::map<uint64_t, UnixSocketFacts> unix;
    AlarmFacts alarm_state{true, std::nullopt};
    std::map<uint64_t, bool> gil_words;  // futex addresses that are a GIL

    std::optional<UnixSocketFacts> unix_socket(uint64_t inode) override {
        auto it = unix.find(inode);
        if (it == unix.end()) return std::nullopt;
        return it->second;
    }
    std::optional<uint64_t> tcp_peer(pid_t, uint64_t) override { return std::nullopt; }
    const AlarmFacts& alarms() override { return alarm_state; }
    const std::vector<FileLockFacts>& file_locks() override { return locks; }
    std::vector<FileLockFacts> locks;
    bool gil_wait(ProcessFacts&, uint64_t address) override { return gil_words.count(address) > 0; }
    std::map<std::string, pid_t> held_outside(const std::set<pid_t>&, const std::set<std::string>& keys) override {
        std::map<std::string, pid_t> found;
        for (const auto& k : keys)
            if (auto it = outside_holders.find(k); it != outside_holders.end()) found.insert(*it);
        return found;
    }
    std::map<std::string, pid_t> outside_holders;  // key -> a process outside the tree
};

class FakeFacts final : public FactsSource {
public:
    std::map<pid_t, FakeProcess> processes;
    FakeSystem machine;
    ProcessFacts& process(pid_t pid) override { return processes[pid]; }
    SystemFacts& system() override { return machine; }
};

// A thread blocked in system call `nr` with `args`, as /proc would show it.
inline ThreadState blocked(pid_t tid, long nr, std::array<uint64_t, 6> args, char state = 'S') {
    ThreadState t;
    t.tid = tid;
    t.state = state;
    t.comm = "t" + std::to_string(tid);
    t.syscall = nr;
    t.args = args;
    t.wait = Wait::other_untimed;
    return t;
}

inline ProcessState process_of(pid_t pid, pid_t ppid, std::vector<ThreadState> threads, std::string exe = "/bin/x") {
    ProcessState p;
    p.pid = pid;
    p.ppid = ppid;
    p.exe = std::move(exe);
    p.threads = std::move(threads);
    return p;
}

}  // namespace hangar::testing
