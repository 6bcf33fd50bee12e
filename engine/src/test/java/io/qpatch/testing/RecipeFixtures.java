package io.qpatch.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Targets for the recipe tests of the shell and the JS build (scripts/count-calls.*,
 * trace-go.*): programs whose calls are known in number and size, so that a recipe's
 * table can be checked exactly.
 */
public final class RecipeFixtures {
  /** Two threads allocating known sizes: 100 bytes (main), 24 bytes ("sizer"). */
  private static final String ALLOCATOR =
      """
      #include <pthread.h>
      #include <stdio.h>
      #include <stdlib.h>
      #include <unistd.h>
      char *volatile sink;
      static void churn(size_t n) {
        for (;;) {
          char *p = malloc(n);
          p[0] = 1;
          sink = p;
          free(p);
          usleep(2000);
        }
      }
      static void *sizer(void *arg) {
        (void) arg;
        churn(24);
        return 0;
      }
      int main(void) {
        pthread_t t;
        pthread_create(&t, 0, sizer, 0);
        pthread_setname_np(t, "sizer");
        printf("ready\\n");
        fflush(stdout);
        churn(100);
      }
      """;

  /** A Go program whose own functions are called in a known proportion: 10 squares per work. */
  private static final String GO_WORKER =
      """
      package main

      import (
      	"fmt"
      	"time"
      )

      //go:noinline
      func square(x int) int { return x * x }

      //go:noinline
      func work(n int) int {
      	s := 0
      	for i := 0; i < n; i++ {
      		s += square(i)
      	}
      	return s
      }

      func main() {
      	fmt.Println("ready")
      	for {
      		work(10)
      		time.Sleep(2 * time.Millisecond)
      	}
      }
      """;

  private RecipeFixtures() {}

  /** The allocator: main mallocs 100 bytes, thread "sizer" 24, each every 2 ms. */
  public static Path allocator() {
    return Fixtures.c("allocator", ALLOCATOR, "-O1", "-pthread");
  }

  /** The Go worker, built with the newest Go installed (skips, or fails under CI, without Go). */
  public static Path goWorker() {
    return GoToolchains.newest().build("goworker", GO_WORKER);
  }

  /**
   * Checks count-calls' table for the allocator (malloc): a row for each thread with many
   * calls, each row's sum exactly calls x the thread's size, and a total.
   */
  public static void assertAllocatorTable(String out) {
    assertRow(out, "allocator", 100);
    assertRow(out, "sizer", 24);
    assertTrue(out.matches("(?s).*\ntotal +\\d+ +\\d+\n"), out);
  }

  private static void assertRow(String out, String thread, long size) {
    Matcher m = Pattern.compile("(?m)^\\d+ +" + thread + " +(\\d+) +(\\d+)$").matcher(out);
    assertTrue(m.find(), thread + " row in\n" + out);
    long calls = Long.parseLong(m.group(1));
    assertTrue(calls >= 20, out);
    assertEquals(calls * size, Long.parseLong(m.group(2)), out);
  }

  /**
   * Checks trace-go's summary for the Go worker: main.work called and timed, main.square
   * ten times as often (one run may cut a work call short).
   */
  public static void assertGoWorkerSummary(String out) {
    long work = calls(out, "main.work");
    long square = calls(out, "main.square");
    assertTrue(work >= 10, out);
    assertTrue(Math.abs(square - 10 * work) <= 10, "10 squares per work: " + out);
    String duration = " +[\\d.]+ [mun]?s";
    assertTrue(out.matches("(?s).*\nmain\\.work +\\d+" + duration.repeat(4) + "\n.*"), out);
  }

  private static long calls(String summary, String function) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(function) + " +(\\d+) ").matcher(summary);
    assertTrue(m.find(), function + " in\n" + summary);
    return Long.parseLong(m.group(1));
  }
}
