package io.qpatch.trace;

/** Go fixture sources. */
final class GoPrograms {
  private GoPrograms() {}

  /**
   * Four goroutines each learn their own goid from runtime.Stack ("goroutine N [running]")
   * and call main.work(id); each writes "worker ID goid N" to the file named by its
   * argument. The goroutines live 200 ms more and main sleeps 300 ms before it exits with
   * status 3: the uprobe backend reads goids from the target's memory when it processes
   * samples, shortly after the calls, and a goroutine that has exited by then may show none
   * (see README, "Backends").
   */
  static final String WORKERS = """
      package main

      import (
      	"fmt"
      	"os"
      	"runtime"
      	"strconv"
      	"strings"
      	"sync"
      	"time"
      )

      //go:noinline
      func work(id int) int {
      	return id*10 + 1
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
      	var wg sync.WaitGroup
      	var mu sync.Mutex
      	for i := 1; i <= 4; i++ {
      		wg.Add(1)
      		go func(id int) {
      			defer wg.Done()
      			g := goid()
      			r := work(id)
      			mu.Lock()
      			fmt.Fprintf(out, "worker %d goid %d result %d\\n", id, g, r)
      			mu.Unlock()
      			time.Sleep(200 * time.Millisecond) // still alive when a uprobe sample is read
      		}(i)
      	}
      	wg.Wait()
      	out.Close()
      	time.Sleep(300 * time.Millisecond)
      	os.Exit(3)
      }
      """;

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
}
