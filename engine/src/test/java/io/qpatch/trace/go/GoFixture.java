package io.qpatch.trace.go;

import io.qpatch.testing.GoToolchains;
import io.qpatch.testing.GoToolchains.GoToolchain;
import java.nio.file.Path;

/**
 * The Go program the static-analysis tests read, built with each installed toolchain,
 * with DWARF and stripped ({@code -ldflags=-s -w}).
 */
final class GoFixture {
  static final String SOURCE = """
      package main

      import (
      \t"fmt"
      \t"os"
      \t"runtime"
      \t"strings"
      \t"sync"
      )

      type T struct{ n int }

      var sink int

      //go:noinline
      func (t *T) M(k int) int { return t.n + k }

      //go:noinline
      func record(id int) { sink += id }

      // work calls another function, so it has a frame and a stack check.
      //go:noinline
      func work(id int) int {
      \trecord(id)
      \treturn id * 2
      }

      //go:noinline
      func four(x int, s string, b []byte, ok bool) (int, error) {
      \tif ok {
      \t\treturn x + len(s) + len(b), nil
      \t}
      \treturn 0, fmt.Errorf("not ok")
      }

      //go:noinline
      func mixed(f float64, a [2]int, n int, c complex128, one [1]string) float64 {
      \treturn f + float64(a[0]+a[1]+n+len(one[0])) + real(c)
      }

      //go:noinline
      func many(a, b, c, d, e, f, g, h, i, j int) int {
      \treturn a + b + c + d + e + f + g + h + i + j
      }

      //go:noinline
      //go:nosplit
      func leaf(a int) int { return a + 1 }

      //go:noinline
      func big(n int) byte {
      \tvar buf [10000]byte
      \tfor i := range buf {
      \t\tbuf[i] = byte(i + n)
      \t}
      \trecord(int(buf[n%len(buf)]))
      \treturn buf[n%len(buf)]
      }

      func main() {
      \tvar wg sync.WaitGroup
      \tfor i := 1; i <= 3; i++ {
      \t\twg.Add(1)
      \t\tgo func(id int) { defer wg.Done(); work(id) }(i)
      \t}
      \twg.Wait()
      \tt := &T{n: 1}
      \tn, _ := four(1, "hi", []byte{1}, true)
      \tm := mixed(1.5, [2]int{1, 2}, 3, 2i, [1]string{"x"})
      \tfmt.Fprintln(os.Stdout, t.M(2), n, m, many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), leaf(3), big(5),
      \t\tstrings.Repeat("-", 2), runtime.NumGoroutine())
      }
      """;

  private GoFixture() {}

  static Path unstripped(GoToolchain tc) {
    return tc.build("gometa", SOURCE);
  }

  static Path stripped(GoToolchain tc) {
    return tc.build("gometa-stripped", SOURCE, "-ldflags=-s -w");
  }

  static java.util.List<GoToolchain> toolchains() {
    return GoToolchains.all();
  }
}
