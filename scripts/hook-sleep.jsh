// hook-sleep.jsh: the seed's use case 2 as a recipe. Hooks the target's sleep() with
// _qpatch_hookfun_sleep from PATCH.o (examples/chook.c: a line before and after the real
// sleep), lets it run for SECONDS, then rolls back: every byte of the target is as before.
//
//   gcc -c examples/chook.c -o chook.o
//   ./qpatch run scripts/hook-sleep.jsh PID chook.o [SECONDS]
//
// The same steps by hand: qpatch -o chook.o -p PID -l, then -a, then -r.
if (args.length < 2) {
  System.err.println("usage: qpatch run scripts/hook-sleep.jsh PID PATCH.o [SECONDS]");
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
