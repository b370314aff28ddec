/* The version strings (see version.h). src/common/util/meson.build defines C1M_VERSION from meson.build's
 * project version; no other file reads it, so every program and report takes it from here. */
#include "common/util/version.h"

#include <stdio.h>

/* Only for tools that compile this file without the build's flags (cppcheck); unit.version proves the build
 * passes meson's version. */
#ifndef C1M_VERSION
#define C1M_VERSION "unknown"
#endif

const char *version_project(void)
{
	return C1M_VERSION;
}

int version_text(const char *prog, const char *libevent, char *buf, size_t len)
{
	if (libevent == NULL)
		return snprintf(buf, len, "%s %s\n", prog, C1M_VERSION);
	return snprintf(buf, len, "%s %s\nlibevent %s\n", prog, C1M_VERSION, libevent);
}
