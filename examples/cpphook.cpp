// Hooks the class method Greeter::greet(int) in a running cppmain: logs before and
// after each call with std::string, and still calls the original method.
// Build: g++ -c cpphook.cpp -o cpphook.o
//
// A hook is named _qpatch_hookfun_ followed by the target function's symbol name;
// for a C++ method that is its mangled name (nm cppmain | grep greet shows
// _ZN7Greeter5greetEi). extern "C" keeps the hook's own name unmangled. A method
// receives `this` as its first argument (Itanium C++ ABI, section 3.1), hence `self`.
#include <cstdio>
#include <string>

#include "greeter.h"

extern "C" int _qpatch_hookfun__ZN7Greeter5greetEi(Greeter* self, int round) {
  std::string note = "round " + std::to_string(round);
  std::printf("hook: before greet, %s\n", note.c_str());
  int result = self->greet(round);  // inside a hook this reaches the original method
  std::printf("hook: greet returned %d\n", result);
  return result;
}
