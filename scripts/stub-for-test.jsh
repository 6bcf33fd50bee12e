// stub-for-test.jsh: the seed's "patch initialization function, convenient for unit
// testing" as a recipe. Loads PATCH.o into the live process (its _qpatch_init prepares the
// test's state), activates it (its functions stand in for the real ones), runs a scenario
// by calling the process's own functions and checking their results, then rolls back
// (the patch's rollback callback restores what init changed). Prints a line per check
// and exits 0 when all pass, 1 when one fails.
//
//   gcc -O1 examples/account.c -o account && ./account &
//   gcc -c examples/account-stub.c -o account-stub.o
//   ./qpatch run scripts/stub-for-test.jsh $(pidof account) account-stub.o
//
// The scenario below is account.c's (init set balance 1000 and a fixed fee of 5); copy
// the recipe and write your own checks for your program.
if (args.length < 2) {
  System.err.println("usage: qpatch run scripts/stub-for-test.jsh PID PATCH.o");
  exit(2);
}
var p = attach(Integer.parseInt(args[0]));
var patch = args[1];
var failed = new int[1];
void check(String what, long got, long want) {
  System.out.printf("%-4s %s = %d%s%n", got == want ? "ok" : "FAIL", what, got, got == want ? "" : " (want " + want + ")");
  if (got != want) failed[0]++;
}
var name = p.load(patch).name();
System.out.println("loaded " + name + ": init ran");
p.activate(patch);
check("withdraw(100)", p.call("withdraw", 100), 895);
check("withdraw(2000)", p.call("withdraw", 2000), -1);
check("withdraw(10)", p.call("withdraw", 10), 880);
check("fee(123456)", p.call("fee", 123456), 5);
p.rollback(patch);
System.out.println("rolled back " + name + ": fee(123456) = " + p.call("fee", 123456));
p.detach();
System.out.println(failed[0] == 0 ? "PASS" : "FAIL: " + failed[0] + " check(s)");
exit(failed[0] == 0 ? 0 : 1);
