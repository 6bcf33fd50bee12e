// account.c: a tiny long-running "service" to test with scripts/stub-for-test.jsh: an
// account balance, the fee a withdrawal costs, and withdraw(), which the test calls.
//
//   gcc -O1 account.c -o account && ./account
#include <stdio.h>
#include <unistd.h>

long balance = 100;

// The fee of a withdrawal: 1% plus 1. A test wants it fixed (account-stub.c).
__attribute__((noipa)) long fee(long amount) { return amount / 100 + 1; }

// Takes amount plus its fee from the balance; returns the new balance, or -1 when the
// balance does not cover it.
__attribute__((noipa)) long withdraw(long amount) {
  long total = amount + fee(amount);
  if (total > balance) return -1;
  balance -= total;
  return balance;
}

int main(void) {
  setvbuf(stdout, 0, _IOLBF, 0);
  for (;;) {
    printf("balance %ld\n", balance);
    sleep(1);
  }
}
