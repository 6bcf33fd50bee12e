#include <stdio.h>

void sleep(int i);

void _qpatch_hookfun_sleep(int i) {
	printf("before sleep called!\n");
	sleep(i);
	printf("after sleep called!\n");
}
