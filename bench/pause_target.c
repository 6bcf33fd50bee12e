/*
 * The benchmark's target: THREADS threads (default 2) call work() in a loop and
 * measure, each for itself, the longest gap between two consecutive iterations: the
 * longest pause they saw. SIGUSR1 makes the main thread print "max_gap_us N" (the
 * longest gap of any thread since the previous report) and start over.
 *
 * Each iteration also sleeps 50 us, so that the threads leave the CPU to qpatch on a
 * small machine; the gap of an idle period (a report with nothing done in between) is
 * the baseline that sleep, timer slack and scheduling give.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_long max_gap_ns;
static volatile sig_atomic_t report;

/* volatile keeps it longer than the 5 bytes of an entry jump at any -O level. */
__attribute__((noinline)) int work(int x) {
  volatile int step = 1;
  return x + step;
}

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *loop(void *arg) {
  (void)arg;
  struct timespec nap = {0, 50000};
  long last = now_ns();
  volatile int sink = 0;
  for (;;) {
    sink = work(sink);
    nanosleep(&nap, NULL);
    long t = now_ns();
    long gap = t - last, seen = atomic_load(&max_gap_ns);
    while (gap > seen && !atomic_compare_exchange_weak(&max_gap_ns, &seen, gap)) {}
    last = t;
  }
  return NULL;
}

static void on_usr1(int sig) { (void)sig; report = 1; }

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  signal(SIGUSR1, on_usr1);
  for (int i = 0; i < threads; i++) {
    pthread_t t;
    pthread_create(&t, NULL, loop, NULL);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    pause();
    if (report) {
      report = 0;
      printf("max_gap_us %ld\n", atomic_exchange(&max_gap_ns, 0) / 1000);
      fflush(stdout);
    }
  }
}
