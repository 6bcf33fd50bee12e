// count-calls.js: count-calls.jsh in JavaScript (the JS build). Counts the calls of a
// function (malloc unless told otherwise) in a live process for SECONDS, per thread, with
// the sum of its first argument (for malloc: the bytes asked for), then takes the
// breakpoint out, detaches, and prints a table.
//
//   QPATCH_JS=1 ./qpatch run scripts/count-calls.js PID [SYMBOL] [SECONDS]
//
// The callback runs while the script waits in p.run(), on the script's own thread (a JS
// function cannot run on another one); calls made outside it go through uncounted.
if (args.length < 1) {
  console.error("usage: QPATCH_JS=1 qpatch run scripts/count-calls.js PID [SYMBOL] [SECONDS]");
  exit(2);
}
const p = attach(parseInt(args[0], 10));
const symbol = args.length > 1 ? args[1] : "malloc";
const seconds = args.length > 2 ? parseFloat(args[2]) : 10;
const perThread = new Map();
p.onCall(symbol, c => {
  const row = perThread.get(c.tid()) || [0, 0];
  row[0] += 1;
  row[1] += Number(c.arg(0));
  perThread.set(c.tid(), row);
});
print(`counting calls of ${symbol} in pid ${p.pid()} for ${seconds} s`);
p.run(seconds);
const names = new Map();
if (p.isAlive()) for (const t of p.threads()) names.set(t.tid(), t.name());
p.detach();

const row = (tid, thread, calls, sum) =>
  `${String(tid).padEnd(10)} ${String(thread).padEnd(16)} ${String(calls).padStart(10)} ${String(sum).padStart(16)}`;
print(row("TID", "THREAD", "CALLS", "ARG0 SUM"));
let calls = 0;
let sum = 0;
for (const tid of [...perThread.keys()].sort((a, b) => a - b)) {
  const [n, s] = perThread.get(tid);
  print(row(tid, names.get(tid) || "(exited)", n, s));
  calls += n;
  sum += s;
}
print(row("total", "", calls, sum));
