// trace-go.js: trace-go.jsh in JavaScript (the JS build). Attaches to a running Go
// program, traces the functions whose names REGEX finds (default ^main\. : the program's
// own package) with their returns for SECONDS, then prints the summary: calls, total and
// mean time per function, busiest first. The program runs on, untraced, afterwards.
//
//   QPATCH_JS=1 ./qpatch run scripts/trace-go.js PID [SECONDS] [REGEX]
if (args.length < 1) {
  console.error("usage: QPATCH_JS=1 qpatch run scripts/trace-go.js PID [SECONDS] [REGEX]");
  exit(2);
}
const p = attach(parseInt(args[0], 10));
const seconds = args.length > 1 ? parseFloat(args[1]) : 10;
const regex = args.length > 2 ? args[2] : "^main\\.";
print(`tracing ${regex} in pid ${p.pid()} for ${seconds} s`);
const trace = p.trace(regex).returns().forSeconds(seconds);
print(trace.summary().toString().replace(/\n$/, ""));
p.detach();
