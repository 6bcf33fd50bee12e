#include <stdio.h>
void sleep(int i) {
  printf("sleep called!\n");
}
