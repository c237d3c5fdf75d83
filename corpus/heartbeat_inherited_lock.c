// Hang: a forked job process blocks forever on a lock a profiler thread held at fork(), while the parent's heartbeat thread keeps beating.
// Seen in: DataDog/dd-trace-rb issue #3015 "Resque workers deadlocked from ddtrace after processing jobs" (https://github.com/DataDog/dd-trace-rb/issues/3015): forked job stuck on a futex, heartbeat still sent, "indefinitely until the process is manually killed".
//
// Mechanism (checked in /proc and with eu-stack): a sampler thread holds its mutex
// while it takes a sample; the main thread forks a job at that moment (made certain
// here: the sampler signals when it holds the lock, and holds it for 1 s, only to widen
// the window). The job's own use of the sampler lock then waits on an untimed private
// futex whose owner is not in the process. The parent waits in waitpid() while its
// heartbeat thread wakes every 100 ms, updates a timestamp and sleeps again: the tree
// never stops moving, but nothing in it can ever release the job.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t sampler_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t holding;
static volatile time_t last_beat;

static void* sampler(void* arg) {
    (void)arg;
    pthread_mutex_lock(&sampler_lock);  // taking a sample
    sem_post(&holding);
    sleep(1);                           // widens the window; fork happens meanwhile
    pthread_mutex_unlock(&sampler_lock);
    return NULL;
}

static void* heartbeat(void* arg) {
    (void)arg;
    for (;;) {  // "still alive": wakes every 100 ms, then sleeps again
        last_beat = time(NULL);
        struct timespec tick = {0, 100 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    return NULL;
}

int main(void) {
    sem_init(&holding, 0, 0);
    pthread_t s, h;
    pthread_create(&h, NULL, heartbeat, NULL);
    pthread_create(&s, NULL, sampler, NULL);
    sem_wait(&holding);
    pid_t job = fork();
    if (job == 0) {
        pthread_mutex_lock(&sampler_lock);  // the job's cleanup records a last sample: never returns
        _exit(0);
    }
    int status = 0;
    waitpid(job, &status, 0);
    printf("not reached: job status %d\n", status);
    return 0;
}
