// patch-sleep.jsh: the seed's use case 1 as a recipe. Replaces the target's sleep() with
// the one in PATCH.o (examples/cpatch.c: prints "sleep called!" and does not sleep), lets
// it run for SECONDS, then rolls back: every byte of the target is as before.
//
//   gcc -c examples/cpatch.c -o cpatch.o
//   ./qpatch run scripts/patch-sleep.jsh PID cpatch.o [SECONDS]
//
// The same steps by hand: qpatch -o cpatch.o -p PID -l, then -a, then -r.
if (args.length < 2) {
  System.err.println("usage: qpatch run scripts/patch-sleep.jsh PID PATCH.o [SECONDS]");
  exit(2);
}
var p = attach(Integer.parseInt(args[0]));
var seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
var loaded = p.load(args[1]);
System.out.println("loaded " + loaded.name() + ": " + loaded.functions().size() + " function(s)");
p.activate(args[1]);
System.out.println("active for " + seconds + " s");
Thread.sleep(seconds * 1000L);
var back = p.rollback(args[1]);
System.out.println("rolled back " + back.patch());
p.detach();
