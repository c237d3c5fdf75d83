// Hang: a forked child submits a task to a thread pool created before fork() and waits for its future.
// Seen in: h2oai/datatable issue #1758 "Fortify the thread pool against forking" (https://github.com/h2oai/datatable/issues/1758); same report for Rust's futures-cpupool, rust-lang/futures-rs #649.
//
// The pool has the shape of BS::thread_pool or ctpl: std::thread workers, one queue
// under a std::mutex, a std::condition_variable, std::packaged_task futures.
// Mechanism (checked in /proc and with eu-stack): fork() copies the pool object but none
// of its worker threads. The child's submit() queues the task and notifies a condition
// variable nobody waits on in this process; future::get() then waits forever. libstdc++
// waits on a future's state with a futex call *without* FUTEX_PRIVATE_FLAG, so /proc
// shows a shared untimed futex. The parent waits in waitpid(); its workers idle on the
// condition variable.
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

class ThreadPool {
public:
    explicit ThreadPool(unsigned n) {
        for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
    }
    template <class F>
    std::future<decltype(std::declval<F>()())> submit(F f) {
        auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
        {
            std::lock_guard lock(mutex_);
            tasks_.push([task] { (*task)(); });
        }
        ready_.notify_one();
        return task->get_future();
    }

private:
    void work() {
        for (;;) {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return !tasks_.empty(); });
            auto task = std::move(tasks_.front());
            tasks_.pop();
            lock.unlock();
            task();
        }
    }
    std::vector<std::thread> workers_;
    std::queue<std::function<void()>> tasks_;
    std::mutex mutex_;
    std::condition_variable ready_;
};

int main() {
    static ThreadPool pool(2);  // static: workers never joined, as with a process-wide pool
    std::printf("parent: %d\n", pool.submit([] { return 6 * 7; }).get());
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        std::printf("child: %d\n", pool.submit([] { return 6 * 7; }).get());  // never returns
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    std::printf("not reached: child status %d\n", status);
    std::_Exit(0);  // skip the static pool's destructor: its workers never stop
}
