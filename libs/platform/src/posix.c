/* posix.c — placeholder, replaced by the POSIX implementation of platform.h. */
#include "beskid/platform.h"
