// A C++ target: calls Greeter::greet(int) every 2 seconds.
// Build: g++ -O2 cppmain.cpp -o cppmain
#include <cstdio>
#include <unistd.h>

#include "greeter.h"

int Greeter::greet(int round) {
  std::printf("%s: hello, round %d\n", name_.c_str(), round);
  return round;
}

int main() {
  Greeter greeter("greeter");
  for (int round = 0;; ++round) {
    greeter.greet(round);
    std::fflush(stdout);
    sleep(2);
  }
}
