// Threads that come and go: 10 000 created and joined one after another (more than the
// kernel's 4 096 thread stacks, so each exited thread's stack and descriptor must be used
// again), then batches of 64 alive at once, each thread checking that its stack is its own.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#define CHECK_NAME "thread-churn"
#include "check.h"

enum { kSerial = 10000, kBatches = 40, kBatch = 64 };

static void* touch_stack(void* arg) {
    volatile unsigned char buf[2048];
    for (unsigned i = 0; i < sizeof buf; ++i) buf[i] = (unsigned char)(uintptr_t)arg;
    unsigned sum = 0;
    for (unsigned i = 0; i < sizeof buf; ++i) sum += buf[i];
    return (void*)(uintptr_t)(sum == sizeof buf * ((uintptr_t)arg & 0xff) ? gettid() : -1);
}

int main(void) {
    int created = 0, joined = 0;
    pid_t last_tid = 0;
    for (int i = 0; i < kSerial; ++i) {
        pthread_t t;
        if (pthread_create(&t, NULL, touch_stack, (void*)(uintptr_t)i) != 0) break;
        ++created;
        void* ret = NULL;
        if (pthread_join(t, &ret) == 0 && (intptr_t)ret > 0) ++joined;
        if (i == kSerial - 1) last_tid = (pid_t)(intptr_t)ret;
    }
    CHECK(created == kSerial);
    CHECK(joined == kSerial);
    CHECK(last_tid > 1);  // thread ids keep counting: none is reused while a thread lives
    int batch_ok = 0;
    for (int b = 0; b < kBatches; ++b) {
        pthread_t t[kBatch];
        int n = 0, good = 0;
        for (; n < kBatch; ++n)
            if (pthread_create(&t[n], NULL, touch_stack, (void*)(uintptr_t)(b * kBatch + n)) != 0) break;
        for (int i = 0; i < n; ++i) {
            void* ret = NULL;
            if (pthread_join(t[i], &ret) == 0 && (intptr_t)ret > 0) ++good;
        }
        if (n == kBatch && good == kBatch) ++batch_ok;
    }
    CHECK(batch_ok == kBatches);
    printf("thread-churn: %d threads created and joined one at a time, %d batches of %d\n", joined, batch_ok, kBatch);
    return check_summary();
}
