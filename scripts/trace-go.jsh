// trace-go.jsh: attaches to a running Go program, traces the functions whose names REGEX
// finds (default ^main\. : the program's own package) with their returns for SECONDS,
// then prints the summary: calls, total and mean time per function, busiest first. The
// program runs on, untraced, when the script ends.
//
//   ./qpatch run scripts/trace-go.jsh PID [SECONDS] [REGEX]
//
// Probes are int3 breakpoints answered by qpatch (gotrace's ptrace backend): each traced
// call costs its goroutine tens of microseconds, so narrow REGEX on a busy service.
// gotrace -p PID --summary -f REGEX does the same from the command line.
if (args.length < 1) {
  System.err.println("usage: qpatch run scripts/trace-go.jsh PID [SECONDS] [REGEX]");
  exit(2);
}
var p = attach(Integer.parseInt(args[0]));
var seconds = args.length > 1 ? Double.parseDouble(args[1]) : 10;
var regex = args.length > 2 ? args[2] : "^main\\.";
System.out.printf("tracing %s in pid %d for %s s%n", regex, p.pid(), seconds);
var trace = p.trace(regex).returns().forSeconds(seconds);
System.out.print(trace.summary());
p.detach();
