/* The runtime's version, for programs that link it. */
#include "asyncleak.h"
#include "internal.h"

AL_EXPORT const char *asyncleak_version(void) {
  return ASYNCLEAK_VERSION;
}
