// Two threads and the main one share a counter under a mutex; the main thread joins them.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void* work(void* arg) {
    for (int i = 0; i < 100000; ++i) {
        pthread_mutex_lock(&lock);
        ++counter;
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

int main(void) {
    pthread_t a, b;
    if (pthread_create(&a, NULL, work, (void*)1) || pthread_create(&b, NULL, work, (void*)2)) return 2;
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    printf("threads: counter %ld, results %ld %ld\n", counter, (long)ra, (long)rb);
    return counter == 200000 && ra == (void*)1 && rb == (void*)2 ? 0 : 1;
}
