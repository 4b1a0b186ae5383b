/* A statically linked program: it has no dynamic loader, so nothing can be
 * preloaded into it, and asyncleak must refuse to run it. */
#include <stdio.h>

int main(void) {
  puts("hello");
  return 0;
}
