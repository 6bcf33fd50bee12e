// inspect.js: a first look at a live process, for the on-call engineer (inspect.jsh in JS).
//
//   QPATCH_JS=1 ./qpatch run scripts/inspect.js PID [FUNCTION]
//
// Prints every thread with where it is (module!symbol+offset), every module with its
// base address and build-id, and, when FUNCTION is given, its address and first
// instructions. The process is stopped for well under a millisecond to read the
// threads' pcs and is left exactly as it was.
const String = Java.type("java.lang.String");

if (args.length < 1) {
  console.error("usage: QPATCH_JS=1 qpatch run scripts/inspect.js PID [FUNCTION]");
  exit(2);
}
const p = attach(parseInt(args[0], 10));
const stopped = p.stop();
try {
  for (const t of p.threads()) {
    print(String.format("thread %-8d %-16s %s", t.tid(), t.name(), p.where(t.pc())));
  }
} finally {
  stopped.close();
}
for (const m of p.modules()) {
  print(String.format("module 0x%012x %s %s", m.base(), m.path(), m.buildId().orElse("-")));
}
if (args.length > 1) {
  print(String.format("%s at 0x%x", args[1], p.sym(args[1])));
  print(p.listing(args[1], 6));
}
p.detach();
