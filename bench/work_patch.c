/* The benchmark's patch: replaces work() of pause_target (returns x + 2 instead of x + 1). */
int work(int x) {
  volatile int step = 2;
  return x + step;
}
