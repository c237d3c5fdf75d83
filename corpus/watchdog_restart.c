// Healthy: a watchdog thread kills a forked snapshot child that stopped making progress, the snapshot is retried, and the run passes.
// Seen in: logcabin issue #121 "potential child process deadlock" (https://github.com/logcabin/logcabin/issues/121): a forked snapshot child could block forever on a lock held at fork; commit 7c46a0d added a parent watchdog thread that kills it after 10 s without output.
//
// First attempt: a logger thread holds the log lock when the snapshot child is forked,
// so the child's first log call waits forever (untimed private futex). The parent's
// main thread reads the child's progress pipe (untimed read); the watchdog thread
// wakes every 100 ms and, after 2 s without progress (10 s in logcabin), kills the
// child. The parent sees EOF, reaps it and forks again; the lock is free by then, the
// second snapshot finishes, and the program exits 0. Must pass.
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;  // guards child, last_progress
static sem_t held;
static pid_t child;
static long last_progress;

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void progress(pid_t pid) {  // pid 0: no child to watch
    pthread_mutex_lock(&child_lock);
    child = pid;
    last_progress = now_ms();
    pthread_mutex_unlock(&child_lock);
}

static void* logger(void* arg) {
    pthread_mutex_lock(&log_lock);
    sem_post(&held);
    usleep(300 * 1000);  // a log line being written while the first snapshot forks
    pthread_mutex_unlock(&log_lock);
    return arg;
}

static void* watchdog(void* arg) {
    for (;;) {
        usleep(100 * 1000);
        pthread_mutex_lock(&child_lock);
        if (child > 0 && now_ms() - last_progress >= 2000) {
            fprintf(stderr, "watchdog: snapshot child %d silent for 2 s, killing it\n", (int)child);
            kill(child, SIGKILL);
            child = 0;
        }
        pthread_mutex_unlock(&child_lock);
    }
    return arg;
}

static int snapshot(void) {  // 0 when the child wrote its snapshot and exited 0
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(&log_lock);  // "taking snapshot": blocks on the first attempt
        for (int i = 0; i < 5; ++i) (void)!write(fds[1], "chunk", 5);
        _exit(0);
    }
    progress(pid);
    close(fds[1]);
    char buf[64];
    while (read(fds[0], buf, sizeof buf) > 0) progress(pid);
    close(fds[0]);
    progress(0);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void) {
    sem_init(&held, 0, 0);
    pthread_t l, w;
    pthread_create(&w, NULL, watchdog, NULL);
    pthread_create(&l, NULL, logger, NULL);
    sem_wait(&held);  // the first snapshot forks while the log lock is held
    for (int attempt = 1; attempt <= 3; ++attempt) {
        if (snapshot() == 0) return printf("snapshot written on attempt %d\n", attempt) < 0;
        printf("snapshot attempt %d failed, retrying\n", attempt);
    }
    return 1;
}
