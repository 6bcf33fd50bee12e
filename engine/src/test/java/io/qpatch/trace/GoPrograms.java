package io.qpatch.trace;

/** Go fixture sources. */
final class GoPrograms {
  private GoPrograms() {}

  /** Prints "tick N" every 50 ms until killed; main.tick(n) is called each time. */
  static final String TICKER = """
      package main

      import (
      	"fmt"
      	"time"
      )

      //go:noinline
      func tick(n int) int {
      	return n + 1
      }

      func main() {
      	for n := 0; ; n = tick(n) {
      		fmt.Printf("tick %d\\n", n)
      		time.Sleep(50 * time.Millisecond)
      	}
      }
      """;

  /** main.describe(n int, s string, ok bool, xs []int) called once. */
  static final String ARGS = """
      package main

      import "fmt"

      //go:noinline
      func describe(n int, s string, ok bool, xs []int) int {
      	return n + len(s) + len(xs)
      }

      func main() {
      	fmt.Println(describe(41, "hi", true, make([]int, 2, 5)))
      }
      """;

  /** Runs /bin/true with os/exec (a vfork child on Linux); writes its error to the file named by its argument. */
  static final String EXEC = """
      package main

      import (
      	"fmt"
      	"os"
      	"os/exec"
      )

      func main() {
      	msg := fmt.Sprintln("ran true:", exec.Command("/bin/true").Run())
      	os.WriteFile(os.Args[1], []byte(msg), 0o644)
      }
      """;

  /**
   * The conformance fixture: six goroutines, each learns its goid from runtime.Stack, then
   * calls main.leaf(id) (no stack check), main.nonLeaf(id) (a stack check, a call) and
   * strings.IndexByte on a string of 1000+id bytes (internal/bytealg.IndexByteString, in
   * assembly), and writes "worker ID goid N" to the file named by its argument; main
   * writes "main goid N", then exits at once.
   */
  static final String CONFORMANCE = """
      package main

      import (
      	"fmt"
      	"os"
      	"runtime"
      	"strconv"
      	"strings"
      	"sync"
      )

      //go:noinline
      func leaf(id int) int {
      	return id*10 + 1
      }

      //go:noinline
      func nonLeaf(id int) int {
      	return len(fmt.Sprint(id)) + id
      }

      func goid() int {
      	buf := make([]byte, 64)
      	n := runtime.Stack(buf, false)
      	id, _ := strconv.Atoi(strings.Fields(string(buf[:n]))[1])
      	return id
      }

      func main() {
      	out, err := os.Create(os.Args[1])
      	if err != nil {
      		panic(err)
      	}
      	fmt.Fprintf(out, "main goid %d\\n", goid())
      	var wg sync.WaitGroup
      	var mu sync.Mutex
      	for i := 1; i <= 6; i++ {
      		wg.Add(1)
      		go func(id int) {
      			defer wg.Done()
      			g := goid()
      			r := leaf(id) + nonLeaf(id) + strings.IndexByte(strings.Repeat("a", 1000+id), 'x')
      			mu.Lock()
      			fmt.Fprintf(out, "worker %d goid %d result %d\\n", id, g, r)
      			mu.Unlock()
      		}(i)
      	}
      	wg.Wait()
      	out.Close()
      }
      """;
}
