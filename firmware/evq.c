/* evq.c — see evq.h. A ring of pointers under a mutex, plus an eventfd counter. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "evq.h"

struct evq {
	pthread_mutex_t	 mu;
	void		**items;
	size_t		 cap, head, len;
	int		 fd;
};

/* see evq.h */
struct evq *
evq_new(size_t cap)
{
	struct evq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->items = calloc(cap, sizeof(void *))) == NULL) {
		free(q);
		return NULL;
	}
	if ((q->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		free(q->items);
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->mu, NULL);
	q->cap = cap;
	return q;
}

/* see evq.h */
void
evq_free(struct evq *q, void (*free_item)(void *))
{
	void *it;

	if (q == NULL)
		return;
	while ((it = evq_pop(q)) != NULL)
		if (free_item != NULL)
			free_item(it);
	close(q->fd);
	pthread_mutex_destroy(&q->mu);
	free(q->items);
	free(q);
}

/* see evq.h */
int
evq_push(struct evq *q, void *item)
{
	uint64_t one = 1;

	pthread_mutex_lock(&q->mu);
	if (q->len == q->cap) {
		pthread_mutex_unlock(&q->mu);
		errno = ENOBUFS;
		return -1;
	}
	q->items[(q->head + q->len) % q->cap] = item;
	q->len++;
	pthread_mutex_unlock(&q->mu);
	/* EAGAIN means the counter is saturated: the loop is awake anyway. */
	if (write(q->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return 0;
	return 0;
}

/* see evq.h */
void *
evq_pop(struct evq *q)
{
	void *it = NULL;

	pthread_mutex_lock(&q->mu);
	if (q->len > 0) {
		it = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	pthread_mutex_unlock(&q->mu);
	return it;
}

/* see evq.h */
int
evq_fd(const struct evq *q)
{
	return q->fd;
}

/* see evq.h */
void
evq_drain_fd(struct evq *q)
{
	uint64_t n;

	if (read(q->fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing to drain */
	}
}
