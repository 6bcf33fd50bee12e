package io.qpatch.trace;

/** Go fixture sources. */
final class GoPrograms {
  private GoPrograms() {}

  /**
   * goid(): the calling goroutine's id as the runtime itself prints it ("goroutine N
   * [running]" from runtime.Stack); needs runtime, strconv and strings imported.
   */
  static final String GOID = """
      func goid() int {
      	buf := make([]byte, 64)
      	n := runtime.Stack(buf, false)
      	id, _ := strconv.Atoi(strings.Fields(string(buf[:n]))[1])
      	return id
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

  /**
   * Every kind of argument and result, each function called once from main: integers
   * of several sizes, bool, pointers, strings (empty, short, longer than 64 bytes),
   * slices, a struct split over registers, interfaces and errors (nil and not), arguments
   * past the nine integer registers (on the stack), and floats (X registers).
   */
  static final String ARGS = """
      package main

      import (
      	"errors"
      	"fmt"
      	"os"
      )

      type Point struct{ X, Y int }

      //go:noinline
      func scalars(n int, i8 int8, u uint16, ok bool, np *Point) int {
      	return n + int(i8) + int(u)
      }

      //go:noinline
      func texts(s string, empty string, long string, xs []int) (string, int) {
      	return s + "!", len(xs)
      }

      //go:noinline
      func shapes(pt Point, any interface{}, err error, none error) (Point, error) {
      	if pt.X < 0 {
      		return pt, nil
      	}
      	return Point{pt.Y, pt.X}, errors.New("swapped")
      }

      //go:noinline
      func many(a, b, c, d, e, f, g, h, i, j int, s string) int {
      	return a + j + len(s)
      }

      //go:noinline
      func floats(f float64, g float32) float64 {
      	return f * float64(g)
      }

      func main() {
      	long := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"
      	fmt.Println(scalars(-41, -8, 65535, true, nil))
      	fmt.Println(texts("hi", "", long, make([]int, 2, 5)))
      	fmt.Println(shapes(Point{1, 2}, 7, os.ErrNotExist, nil))
      	fmt.Println(many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "stack"))
      	fmt.Println(floats(2.5, 0.5))
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

      """ + GOID + """
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
