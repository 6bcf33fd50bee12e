#include <stdio.h>
#include <unistd.h>
int main() 
{ 
  while(1) {
	sleep(5);
	printf("c test\n");
  }
}
