/*
 * The benchmark's target: THREADS threads (default 2) call work() in a loop and
 * measure, each for itself, the longest gap between two consecutive iterations: the
 * longest pause they saw. SIGUSR1 makes the target print "max_gap_us N" (the longest gap
 * of any thread since the previous report) and start over. Before it, one line
 * "gap TID FROM TO" (CLOCK_MONOTONIC seconds) for each gap over GAP_LOG_US since the
 * previous report, so that bench/patch-bench can tell the gaps in which qpatch held
 * that thread from the machine's own.
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
#define _GNU_SOURCE
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

#define GAP_LOG_US 100
#define GAP_LOG_SIZE 65536
struct gap { long tid, from, to; };
static struct gap gaps[GAP_LOG_SIZE];
static atomic_long gap_count;

static void log_gap(long from, long to) {
  long i = atomic_fetch_add(&gap_count, 1);
  if (i < GAP_LOG_SIZE) gaps[i] = (struct gap){gettid(), from, to};
}

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

/* Gaps logged while this prints may be lost, or printed half-written: only by the
 * reporting thread itself (busy mode), whose own gap here is not measured. */
static void print_report(void) {
  report = 0;
  long n = atomic_exchange(&gap_count, 0);
  for (long i = 0; i < n && i < GAP_LOG_SIZE; i++) {
    printf("gap %ld %ld.%09ld %ld.%09ld\n", gaps[i].tid, gaps[i].from / 1000000000L,
           gaps[i].from % 1000000000L, gaps[i].to / 1000000000L, gaps[i].to % 1000000000L);
  }
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
    if (gap > GAP_LOG_US * 1000L) log_gap(last, t);
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
