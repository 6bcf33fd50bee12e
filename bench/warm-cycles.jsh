// bench/warm-cycles.jsh: apply and roll back one patch CYCLES times in one JVM, so that
// the engine runs warm; per cycle: attach, apply, detach, attach, rollback, detach. Prints,
// per cycle, "warm N APPLY_MS FROM TO ROLLBACK_MS FROM TO" (wall times, and each
// command's window in CLOCK_MONOTONIC seconds, the clock of System.nanoTime on Linux), for
// bench/patch-bench to match the target's gaps against qpatch's holds
// (QPATCH_TRACE_STOPS=1, printed at each detach). Run by bench/patch-bench:
//
//   ./qpatch run bench/warm-cycles.jsh PID PATCH.o CYCLES
if (args.length != 3) {
  System.err.println("usage: qpatch run bench/warm-cycles.jsh PID PATCH.o CYCLES");
  exit(2);
}
int pid = Integer.parseInt(args[0]);
var patch = java.nio.file.Path.of(args[1]);
int cycles = Integer.parseInt(args[2]);

long[] timed(java.util.function.Consumer<io.qpatch.patch.Patcher> command) {
  long t0 = System.nanoTime();
  var p = attach(pid);
  command.accept(new io.qpatch.patch.Patcher(p.target()));
  p.detach();
  return new long[] {t0, System.nanoTime()};
}

for (int i = 0; i <= cycles; i++) {
  long[] a = timed(pt -> pt.apply(patch));
  long[] r = timed(pt -> pt.rollback(patch));
  // cycle 0 warms the engine up; it is not reported
  if (i > 0) {
    System.out.printf("warm %d %.1f %.6f %.6f %.1f %.6f %.6f%n", i, (a[1] - a[0]) / 1e6, a[0] / 1e9,
        a[1] / 1e9, (r[1] - r[0]) / 1e6, r[0] / 1e9, r[1] / 1e9);
  }
}
