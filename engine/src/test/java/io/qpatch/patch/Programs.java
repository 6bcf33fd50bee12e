package io.qpatch.patch;

/** C sources of the test targets and patches (examples/ has the seed's and the C++ ones). */
public final class Programs {
  private Programs() {}

  /** Prints "tick N" with N = value() every 20 ms; value() returns 1 (volatile: longer than 5 bytes). */
  public static final String TICKER = """
      #include <stdio.h>
      #include <unistd.h>
      __attribute__((noinline)) int value(void) { volatile int v = 1; return v; }
      __attribute__((noinline)) int other(void) { volatile int v = 7; return v; }
      int main(void) {
        for (;;) {
          printf("tick %d %d\\n", value(), other());
          usleep(20000);
        }
      }
      """;

  /** Replaces value() and other() consistently; every entry point writes a line. */
  public static final String CALLBACKS = """
      #include <string.h>
      #include <unistd.h>
      static int base;
      static void say(const char *s) { write(1, s, strlen(s)); }
      __attribute__((constructor)) static void ctor(void) { base = 40; say("constructor ran\\n"); }
      __attribute__((destructor)) static void dtor(void) { say("destructor ran\\n"); }
      void _qpatch_init(void) { base += 2; say("init ran\\n"); }
      void _pat_callback_active_before(void) { say("active_before\\n"); }
      void _pat_callback_active_after(void) { say("active_after\\n"); }
      void _pat_callback_deactive_before(void) { say("deactive_before\\n"); }
      void _pat_callback_deactive_after(void) { say("deactive_after\\n"); }
      int value(void) { return base; }
      int other(void) { return base + 1; }
      """;

  /** Replaces value(): 10. */
  public static final String VALUE_10 = "int value(void) { return 10; }\n";

  /** Hooks value(): 100 more than whatever value() was before. */
  public static final String VALUE_HOOK = """
      int value(void);
      int _qpatch_hookfun_value(void) { return value() + 100; }
      """;

  /** Replaces value() and other(), and its activation fails after the switch. */
  public static final String FAILING_AFTER = """
      int value(void) { return 2; }
      int other(void) { return 8; }
      void _pat_callback_active_after(void) { *(volatile int *)0 = 1; }
      """;

  /**
   * Functions qpatch must refuse: tiny() is 1 byte; loopy() branches back into its first
   * bytes; blocker() holds a thread in pause(), whose syscall instruction lies in its first
   * 5 bytes (push $34; pop %rax; syscall): the kernel restarts it there.
   */
  public static final String AWKWARD = """
      #include <pthread.h>
      #include <stdio.h>
      #include <unistd.h>
      __asm__(".globl tiny\\n.type tiny,@function\\ntiny: ret\\n.size tiny, 1\\n");
      __asm__(".globl loopy\\n.type loopy,@function\\nloopy: xor %eax,%eax\\n"
              "1: inc %eax\\n cmp $10,%eax\\n jl 1b\\n ret\\n.size loopy, .-loopy\\n");
      __asm__(".globl blocker\\n.type blocker,@function\\nblocker: push $34\\n pop %rax\\n syscall\\n"
              " ret\\n.size blocker, .-blocker\\n");
      void tiny(void); int loopy(void); long blocker(void);
      static void *block(void *arg) { (void)arg; blocker(); return NULL; }
      int main(void) {
        pthread_t t;
        pthread_create(&t, NULL, block, NULL);
        for (;;) { tiny(); printf("loopy %d\\n", loopy()); usleep(50000); }
      }
      """;

  /** 8 threads call value() (1) in a loop; any other result than 1 or 2 aborts the program. */
  public static final String THREADS = """
      #include <pthread.h>
      #include <sched.h>
      #include <stdio.h>
      #include <stdlib.h>
      __attribute__((noinline)) int value(void) { volatile int v = 1; return v; }
      static volatile long calls[8], seen[3];
      static void *run(void *arg) {
        long i = (long)arg;
        for (;;) {
          int v = value();
          if (v != 1 && v != 2) { printf("BAD %d\\n", v); fflush(stdout); abort(); }
          seen[v]++;
          if (++calls[i] % 64 == 0) sched_yield();
        }
        return NULL;
      }
      int main(void) {
        pthread_t t;
        for (long i = 0; i < 8; i++) pthread_create(&t, NULL, run, (void *)i);
        printf("running\\n");
        fflush(stdout);
        for (;;) {
          struct timespec s = {0, 200000000};
          nanosleep(&s, NULL);
          long total = 0;
          for (int i = 0; i < 8; i++) total += calls[i];
          printf("calls %ld old %ld new %ld\\n", total, seen[1], seen[2]);
          fflush(stdout);
        }
      }
      """;

  /**
   * The main thread waits in pause(); a second thread calls value() and counts as fast as
   * it can (napping now and then, for a small machine). Prints the counter's address.
   */
  public static final String COUNTING = """
      #include <pthread.h>
      #include <stdio.h>
      #include <unistd.h>
      __attribute__((noinline)) int value(void) { volatile int v = 1; return v; }
      static volatile long counter, sum;
      static void *count(void *arg) {
        for (;;) {
          sum += value();
          if (++counter % 4096 == 0) usleep(100);
        }
        return arg;
      }
      int main(void) {
        setvbuf(stdout, 0, _IOLBF, 0);
        pthread_t t;
        pthread_create(&t, 0, count, 0);
        printf("counter %p\\n", (void *)&counter);
        for (;;) pause();
      }
      """;

  /** Replaces value() and other() together: 2 and 8. */
  public static final String BOTH = "int value(void) { return 2; }\nint other(void) { return 8; }\n";

  /** value() returns 2. */
  public static final String VALUE_2 = "int value(void) { return 2; }\n";
}
