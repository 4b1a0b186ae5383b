/* What the fuzz targets link in place of the rest of the runtime. The
 * parsers take none of its locks, so nothing is ever deferred
 * (lib/defer.c). */
#include "internal.h"

void al_deferred_run(void) {}
