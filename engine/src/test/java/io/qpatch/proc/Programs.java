package io.qpatch.proc;

/** C sources of the test targets. */
final class Programs {
  private Programs() {}

  /**
   * Four workers count iterations of a 1 ms nanosleep loop and record the longest gap
   * between two iterations; the main thread prints numbered lines. SIGUSR1 is counted;
   * SIGTERM ends the run with a summary.
   */
  static final String COUNTER =
      """
      #include <pthread.h>
      #include <signal.h>
      #include <stdio.h>
      #include <time.h>
      #include <unistd.h>

      static volatile sig_atomic_t usr1, stop;
      static void on_usr1(int s) { usr1++; }
      static void on_term(int s) { stop = 1; }
      static long now_us(void) {
        struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1000000L + t.tv_nsec / 1000;
      }
      static long gaps[4], counts[4];
      static void *worker(void *arg) {
        long id = (long) arg, last = now_us();
        while (!stop) {
          struct timespec ts = {0, 1000000};
          nanosleep(&ts, 0);
          long t = now_us();
          if (t - last > gaps[id]) gaps[id] = t - last;
          last = t;
          counts[id]++;
        }
        return 0;
      }
      int main(void) {
        setvbuf(stdout, 0, _IOLBF, 0);
        signal(SIGUSR1, on_usr1);
        signal(SIGTERM, on_term);
        pthread_t th[4];
        for (long i = 0; i < 4; i++) pthread_create(&th[i], 0, worker, (void *) i);
        printf("started\\n");
        for (long line = 0; !stop; line++) {
          printf("line %ld\\n", line);
          usleep(5000);
        }
        long maxgap = 0, total = 0;
        for (int i = 0; i < 4; i++) {
          pthread_join(th[i], 0);
          if (gaps[i] > maxgap) maxgap = gaps[i];
          total += counts[i];
        }
        printf("done usr1=%d iterations=%ld maxgap_us=%ld\\n", (int) usr1, total, maxgap);
        return 0;
      }
      """;

  /** Creates and joins short-lived threads as fast as it can. */
  static final String THREAD_CHURN =
      """
      #include <pthread.h>
      #include <stdio.h>
      #include <unistd.h>
      static void *nothing(void *arg) { return arg; }
      int main(void) {
        printf("started\\n"); fflush(stdout);
        for (;;) {
          pthread_t t[8];
          for (int i = 0; i < 8; i++) pthread_create(&t[i], 0, nothing, 0);
          for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
        }
      }
      """;
}
