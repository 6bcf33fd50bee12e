/*
 * The benchmark's target: THREADS threads (default 2) call work() in a loop and
 * measure, each for itself, the longest gap between two consecutive iterations: the
 * longest pause they saw. SIGUSR1 makes the target print "max_gap_us N" (the longest gap
 * of any thread since the previous report) and start over.
 *
 * usage: pause_target [THREADS] [busy]
 *
 * By default the main thread is not one of them: it waits in pause() for SIGUSR1 and
 * prints the reports, as the main thread of many servers waits in a join or a signal
 * wait. qpatch holds such an idle thread to make or free memory, and the idle thread does
 * not see it. With "busy" the main thread is one of the THREADS and prints the reports
 * between its iterations: no thread is idle, so the thread qpatch holds is one that
 * measures, and the hold shows in the gaps.
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
#include <string.h>
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

static void print_report(void) {
  report = 0;
  printf("max_gap_us %ld\n", atomic_exchange(&max_gap_ns, 0) / 1000);
  fflush(stdout);
}

/* The argument of the thread that also prints the reports (busy mode), outside its measured gaps. */
#define REPORTER ((void *)1)

static void *loop(void *arg) {
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
    if (arg == REPORTER && report) {
      print_report();
      last = now_ns();
    }
  }
  return NULL;
}

static void on_usr1(int sig) { (void)sig; report = 1; }

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  int busy = argc > 2 && strcmp(argv[2], "busy") == 0;
  signal(SIGUSR1, on_usr1);
  for (int i = busy ? 1 : 0; i < threads; i++) {
    pthread_t t;
    pthread_create(&t, NULL, loop, NULL);
  }
  printf("ready\n");
  fflush(stdout);
  if (busy) loop(REPORTER);
  for (;;) {
    pause();
    if (report) print_report();
  }
}
