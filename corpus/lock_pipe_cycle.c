// Hang: a thread writes messages to a full pipe while holding the global lock; the thread that drains the pipe takes that lock for each message.
// Seen in: RedisGears issue #50 "Solve deadlock on large data execution" (https://github.com/RedisGears/RedisGears/issues/50).
//
// Mechanism (checked in /proc and with eu-stack): one process, two threads, a cycle
// through a lock and a pipe. The main thread holds global_lock and blocks in write()
// once the 64 KiB pipe is full; the reader thread has taken one message off the pipe
// and blocks on global_lock (untimed private futex) to handle it. Only the reader could
// make room in the pipe, and only the writer could release the lock. Deterministic:
// the lock is taken before the reader starts.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { kMessage = 4096, kMessages = 64 };  // 256 KiB in all, four times the pipe buffer

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];
static long handled;

static void* reader(void* arg) {
    (void)arg;
    char msg[kMessage];
    while (read(fds[0], msg, sizeof msg) > 0) {
        pthread_mutex_lock(&global_lock);  // handling a message needs the global lock
        ++handled;
        pthread_mutex_unlock(&global_lock);
    }
    return NULL;
}

int main(void) {
    if (pipe(fds) != 0) return 1;
    pthread_mutex_lock(&global_lock);  // e.g. a command holding the lock while it emits results
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    char msg[kMessage];
    memset(msg, 'r', sizeof msg);
    for (int i = 0; i < kMessages; ++i)
        if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg) return 1;  // blocks for good
    pthread_mutex_unlock(&global_lock);
    close(fds[1]);
    pthread_join(t, NULL);
    printf("not reached: %ld messages handled\n", handled);
    return 0;
}
