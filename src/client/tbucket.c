/* Token bucket with integer nano-token accounting. A refill adds rate nano-tokens per elapsed nanosecond,
 * capped at the burst; when the elapsed time is long enough to fill the bucket anyway the product is never
 * formed, so rate * elapsed cannot overflow. */
#include "client/tbucket.h"

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst)
{
	b->rate = rate;
	b->burst = burst ? burst : 1;
	b->nano = b->burst * TBUCKET_NANO;
	b->last_ns = 0;
	b->started = false;
}

static void refill(struct tbucket *b, uint64_t now_ns)
{
	uint64_t cap = b->burst * TBUCKET_NANO, elapsed, room;

	if (!b->started) {
		b->started = true;
		b->last_ns = now_ns;
		return;
	}
	if (now_ns <= b->last_ns)   /* time never goes back; ignore a stale now */
		return;
	elapsed = now_ns - b->last_ns;
	b->last_ns = now_ns;
	room = cap - b->nano;
	/* elapsed * rate >= room  <=>  elapsed >= ceil(room / rate) */
	if (elapsed >= (room + b->rate - 1) / b->rate)
		b->nano = cap;
	else
		b->nano += elapsed * b->rate;
}

uint64_t tbucket_take(struct tbucket *b, uint64_t now_ns, uint64_t want)
{
	uint64_t have;

	if (b->rate == 0)
		return want;
	refill(b, now_ns);
	have = b->nano / TBUCKET_NANO;
	if (want > have)
		want = have;
	b->nano -= want * TBUCKET_NANO;
	return want;
}

uint64_t tbucket_wait_ns(struct tbucket *b, uint64_t now_ns)
{
	uint64_t missing;

	if (b->rate == 0)
		return 0;
	refill(b, now_ns);
	if (b->nano >= TBUCKET_NANO)
		return 0;
	missing = TBUCKET_NANO - b->nano;
	return (missing + b->rate - 1) / b->rate;
}
