// inspect.jsh: a first look at a live process, for the on-call engineer.
//
//   ./qpatch run scripts/inspect.jsh PID [FUNCTION]
//
// Prints every thread with where it is (module!symbol+offset), every module with its
// base address and build-id, and, when FUNCTION is given, its address and first
// instructions. The process is stopped for well under a millisecond to read the
// threads' pcs and is left exactly as it was.
if (args.length < 1) {
  System.err.println("usage: qpatch run scripts/inspect.jsh PID [FUNCTION]");
  exit(2);
}
var p = attach(Integer.parseInt(args[0]));
try (var stopped = p.stop()) {
  for (var t : p.threads()) {
    System.out.printf("thread %-8d %-16s %s%n", t.tid(), t.name(), p.where(t.pc()));
  }
}
for (var m : p.modules()) {
  System.out.printf("module 0x%012x %s %s%n", m.base(), m.path(), m.buildId().orElse("-"));
}
if (args.length > 1) {
  System.out.printf("%s at 0x%x%n", args[1], p.sym(args[1]));
  System.out.println(p.listing(args[1], 6));
}
p.detach();
