// account-stub.c: a test stub for account.c, loaded by scripts/stub-for-test.jsh. Its init
// function prepares the test's state (a known balance, a fixed fee), fee() is the stub,
// and the rollback callback puts the real balance back.
//
//   gcc -c account-stub.c -o account-stub.o
#include "qpatch.h"

extern long balance;

static long saved_balance;
static long test_fee;

// Runs once when the patch is loaded: the state the test's expectations are written for.
QPATCH_EXTERN_C void _qpatch_init(void) {
  saved_balance = balance;
  balance = 1000;
  test_fee = 5;
}

// Runs when the rollback has switched fee() back: the account is as the test found it.
QPATCH_EXTERN_C void _pat_callback_deactive_after(void) { balance = saved_balance; }

// The stub: every withdrawal costs the same, whatever the amount.
long fee(long amount) {
  (void) amount;
  return test_fee;
}
