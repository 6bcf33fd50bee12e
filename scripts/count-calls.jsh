// count-calls.jsh: counts the calls of a function (malloc unless told otherwise) in a live
// process for SECONDS, per thread, with the sum of its first argument (for malloc: the
// bytes asked for), then takes the breakpoint out, detaches, and prints a table.
//
//   ./qpatch run scripts/count-calls.jsh PID [SYMBOL] [SECONDS]
//
// A scripted breakpoint (p.onCall): an int3 on the function's first instruction; each
// call stops its thread while the callback runs (tens of microseconds), so count a hot
// function for seconds, not hours. SYMBOL may name its library: libc.so.6!malloc.
if (args.length < 1) {
  System.err.println("usage: qpatch run scripts/count-calls.jsh PID [SYMBOL] [SECONDS]");
  exit(2);
}
var p = attach(Integer.parseInt(args[0]));
var symbol = args.length > 1 ? args[1] : "malloc";
var seconds = args.length > 2 ? Double.parseDouble(args[2]) : 10;
var perThread = new TreeMap<Integer, long[]>();
p.onCall(symbol, c -> {
  long[] row = perThread.computeIfAbsent(c.tid(), tid -> new long[2]);
  row[0]++;
  row[1] += c.arg(0);
});
System.out.printf("counting calls of %s in pid %d for %s s%n", symbol, p.pid(), seconds);
p.run(seconds);
var names = new HashMap<Integer, String>();
if (p.isAlive()) for (var t : p.threads()) names.put(t.tid(), t.name());
p.detach();
System.out.printf("%-10s %-16s %10s %16s%n", "TID", "THREAD", "CALLS", "ARG0 SUM");
long[] total = new long[2];
for (var e : perThread.entrySet()) {
  long[] row = e.getValue();
  System.out.printf("%-10d %-16s %10d %16d%n", e.getKey(), names.getOrDefault(e.getKey(), "(exited)"), row[0], row[1]);
  total[0] += row[0];
  total[1] += row[1];
}
System.out.printf("%-10s %-16s %10d %16d%n", "total", "", total[0], total[1]);
