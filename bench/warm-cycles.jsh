// bench/warm-cycles.jsh: apply and roll back one patch CYCLES times in one JVM, so that
// the engine runs warm, and print, per cycle, the wall times and the longest pause the
// target measured itself (bench/pause_target.c answers SIGUSR1 with a "max_gap_us N" line
// in its output file). Run by bench/patch-bench:
//
//   ./qpatch run bench/warm-cycles.jsh PID PATCH.o TARGET_OUTPUT CYCLES
if (args.length != 4) {
  System.err.println("usage: qpatch run bench/warm-cycles.jsh PID PATCH.o TARGET_OUTPUT CYCLES");
  exit(2);
}
int pid = Integer.parseInt(args[0]);
var patch = java.nio.file.Path.of(args[1]);
var output = java.nio.file.Path.of(args[2]);
int cycles = Integer.parseInt(args[3]);

// The longest gap the target saw since its previous report, in microseconds.
long gap() throws Exception {
  long before = java.nio.file.Files.readAllLines(output).stream().filter(l -> l.startsWith("max_gap_us")).count();
  io.qpatch.sys.Libc.kill(pid, io.qpatch.sys.Signals.SIGUSR1);
  while (true) {
    var lines = java.nio.file.Files.readAllLines(output).stream().filter(l -> l.startsWith("max_gap_us")).toList();
    if (lines.size() > before) return Long.parseLong(lines.getLast().split(" ")[1]);
    Thread.sleep(5);
  }
}

var p = attach(pid);
var patcher = new io.qpatch.patch.Patcher(p.target());
for (int i = 0; i <= cycles; i++) {
  gap();
  long t0 = System.nanoTime();
  patcher.apply(patch);
  long t1 = System.nanoTime();
  long applyGap = gap();
  long t2 = System.nanoTime();
  patcher.rollback(patch);
  long t3 = System.nanoTime();
  long rollbackGap = gap();
  // cycle 0 warms the engine up; it is not reported
  if (i > 0) System.out.printf("warm %d %.1f %d %.1f %d%n", i, (t1 - t0) / 1e6, applyGap, (t3 - t2) / 1e6, rollbackGap);
}
p.detach();
