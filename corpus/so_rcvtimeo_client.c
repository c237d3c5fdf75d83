// Healthy: a client whose server is stuck gives up after SO_RCVTIMEO (3 s), kills the server and exits 0.
// Seen in: orca-zhang/influxdb-cpp issue #52 "Program hangs on recv()" (https://github.com/orca-zhang/influxdb-cpp/issues/52), fixed by setting SO_RCVTIMEO; socket(7), SO_RCVTIMEO (a receive that times out fails with EAGAIN or EWOULDBLOCK).
//
// The server here is a forked child stuck for good on a lock that a logger thread
// held at fork() (its only thread: an untimed private futex wait). The client waits
// in recvfrom() on a socketpair; /proc shows that call with no deadline, since the
// timeout lives in the socket, not in the call's arguments. At 3 s recv() fails with
// EAGAIN and the client acts: kills the server, reaps it, exits 0. Must pass.
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t held;

static void* logger(void* arg) {
    (void)arg;
    pthread_mutex_lock(&log_lock);
    sem_post(&held);
    usleep(200 * 1000);  // writing a log line; the fork happens meanwhile
    pthread_mutex_unlock(&log_lock);
    return NULL;
}

int main(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    sem_init(&held, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, logger, NULL);
    sem_wait(&held);
    pid_t server = fork();
    if (server == 0) {
        char req[16];
        if (read(sv[1], req, sizeof req) <= 0) _exit(1);
        pthread_mutex_lock(&log_lock);  // log the request: never returns
        _exit(write(sv[1], "pong", 4) == 4 ? 0 : 1);
    }
    close(sv[1]);
    pthread_join(t, NULL);
    struct timeval limit = {3, 0};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);  // the fix of #52
    if (write(sv[0], "ping", 4) != 4) return 1;
    char reply[16];
    ssize_t n = recv(sv[0], reply, sizeof reply, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        printf("no reply within 3 s: killing the stuck server\n");
        kill(server, SIGKILL);
    }
    int status = 0;
    waitpid(server, &status, 0);
    printf("server %s; client done\n", WIFSIGNALED(status) ? "killed" : "exited");
    return 0;
}
