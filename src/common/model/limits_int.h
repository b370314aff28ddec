/* Private to the limits model's files (limits.c, limits_memory.c): the quantities derived from a plan that
 * several checks share, and the helpers every check uses. */
#ifndef C1M_LIMITS_INT_H
#define C1M_LIMITS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/model/capacity.h"
#include "common/model/limits.h"

/* Derived quantities shared by several checks. */
struct limits_model {
	bool server, client;          /* which sides run on this host */
	uint64_t n;                   /* target connections */
	unsigned ports;
	struct capacity srv, cli;     /* capacity_plan of each side under the hard limit */
	bool srv_ok, cli_ok;          /* capacity_plan accepted that side */
	char srv_err[LIMITS_ERR_LEN], cli_err[LIMITS_ERR_LEN]; /* why not */
	unsigned w_srv, w_cli;        /* processes per side the plan will run */
	uint64_t pp_need;             /* fds one process needs (worst side) */
	unsigned sockets_per_conn;    /* 2 when both ends live here */
	unsigned sides;
	uint64_t user_bytes;
	uint64_t tls_bytes;           /* per connection: the client's TLS (plan.client_tls), else 0 */
};

uint64_t limits_div_ceil(uint64_t a, uint64_t b);
uint64_t limits_sat_mul(uint64_t a, uint64_t b);   /* saturating at UINT64_MAX */
uint64_t limits_sat_add(uint64_t a, uint64_t b);
void limits_set_sysctl(struct limits_check *c, const char *key);
void limits_recommend_u64(struct limits_check *c, uint64_t v);
/* The fix writes what the check recommends, so the table, the JSON and tuning/apply say one value. */
void limits_fix_recommended(struct limits_check *c);

void limits_check_tcp_mem(const struct limits_plan *p, const struct limits_values *v, const struct limits_model *m,
			  struct limits_report *r);
void limits_check_memory_model(const struct limits_values *v, const struct limits_model *m, struct limits_report *r);
void limits_check_cgroup(const struct limits_values *v, const struct limits_model *m, struct limits_report *r);

#endif
