// Hang: a process uses OpenMP (GCC's libgomp) and forks; the child's first parallel region never returns.
// Seen in: GCC Bugzilla PR 60035 (https://gcc.gnu.org/bugzilla/show_bug.cgi?id=60035), where the libgomp-after-fork hang is tracked; cited by OpenBLAS #294 and scikit-learn's FAQ.
//
// Mechanism (checked in /proc and with eu-stack): the parent's first parallel region
// leaves libgomp's pool of worker threads docked at a barrier, and the pool's record of
// them lives in the main thread's state. fork() copies that record but not the threads.
// In the child, the next parallel region hands work to the "docked" threads and waits at
// the barrier for threads that do not exist: after a short spin, an untimed private
// futex wait, forever. The parent waits in waitpid(); its own pool threads stay docked.
#include <omp.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static long parallel_sum(void) {
    long sum = 0;
#pragma omp parallel for num_threads(4) reduction(+ : sum)
    for (long i = 0; i < 1000000; ++i) sum += i % 7;
    return sum;
}

int main(void) {
    printf("parent: %ld\n", parallel_sum());  // starts libgomp's thread pool
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("child: %ld\n", parallel_sum());  // never returns
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("not reached: child status %d\n", status);
    return 0;
}
