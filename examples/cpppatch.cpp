// Replaces the class method Greeter::greet(int) in a running cppmain.
// Build: g++ -c cpppatch.cpp -o cpppatch.o
// The definition below has the same mangled name as the target's method
// (_ZN7Greeter5greetEi), so it replaces it; it reads name_ through the same class
// layout because it includes the same header.
#include <cstdio>

#include "greeter.h"

int Greeter::greet(int round) {
  std::printf("%s: patched, round %d\n", name_.c_str(), round);
  return round * 100;
}
