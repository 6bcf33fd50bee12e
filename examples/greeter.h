// The class that cppmain runs and that cpppatch.cpp and cpphook.cpp change.
// A patch is compiled against the target's own headers, so that it sees the same
// class layout (here: where name_ lives inside a Greeter).
#pragma once
#include <string>
#include <utility>

class Greeter {
 public:
  explicit Greeter(std::string name) : name_(std::move(name)) {}

  // noinline: g++ -O2 would otherwise inline greet() into main(), and a call that no
  // longer goes through the function cannot be redirected by patching its entry.
  [[gnu::noinline]] int greet(int round);

 private:
  std::string name_;
};
