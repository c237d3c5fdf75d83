// lock_loop: what libhangar_forkwatch.so costs a program that does nothing but lock.
// Two threads lock and unlock a pthread_mutex_t ITERATIONS times each; `shared` (the
// default) gives both the same mutex, `private` one each (no contention, the library's
// share of each call at its largest). Prints the loop's wall time in seconds.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long iterations = 10000000;
static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mine[2] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static int use_private;

static void* loop(void* arg) {
    pthread_mutex_t* m = use_private ? &mine[(long)arg] : &shared;
    for (long i = 0; i < iterations; i++) {
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc > 1) use_private = strcmp(argv[1], "private") == 0;
    if (argc > 2) iterations = atol(argv[2]);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_t threads[2];
    for (long i = 0; i < 2; i++) pthread_create(&threads[i], NULL, loop, (void*)i);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("%.6f\n", (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9);
    return 0;
}
