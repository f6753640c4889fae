/* Imports arc4random (GLIBC_2.36, newer than RHEL 9's 2.34): the floor check must refuse it. */
#define _DEFAULT_SOURCE /* arc4random */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("%u\n", arc4random());
    return 0;
}
