/* What --version prints and what the reports and /metrics carry: the project version meson was configured
 * with, and for the programs that run on libevent the version of the library they loaded. One module, so the
 * four programs, the client's and the doctor's JSON and c1m_build_info can never disagree. */
#ifndef C1M_VERSION_H
#define C1M_VERSION_H

#include <stddef.h>

#define VERSION_TEXT_LEN 160 /* bytes: enough for version_text() of any program */

/* The project version from meson.build's project(... version:), e.g. "0.1.0". */
const char *version_project(void);

/* Writes the --version text of program prog into buf: "prog VERSION\n", then "libevent V\n" when libevent is
 * not NULL (the caller passes event_get_version(): this layer links no libevent, and the doctor, which does
 * not run on libevent, passes NULL). Returns the length snprintf would have written. */
int version_text(const char *prog, const char *libevent, char *buf, size_t len);

#endif
