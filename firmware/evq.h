/* evq.h — the bounded queue through which the pcsc watcher, the CMS worker and the
 * web handlers hand events to the main loop (DESIGN.md, "one owner of state"). An
 * eventfd wakes the loop; the queue holds pointers, the producer allocates and the
 * consumer frees. */
#ifndef CARDUPD_EVQ_H
#define CARDUPD_EVQ_H

#include <stddef.h>

struct evq;

/* Creates a queue of at most cap items. Returns NULL with errno on failure. */
struct evq *evq_new(size_t cap);

/* Frees the queue and every item still in it with free_item (may be NULL). */
void evq_free(struct evq *q, void (*free_item)(void *));

/* Appends item (ownership passes to the queue). Returns 0, or -1 when the queue is
 * full (the caller still owns item and should drop it, logging why). Thread-safe. */
int evq_push(struct evq *q, void *item);

/* Removes and returns the oldest item, or NULL when empty. Main loop only. */
void *evq_pop(struct evq *q);

/* The descriptor to poll for POLLIN; call evq_drain_fd() when it is readable. */
int evq_fd(const struct evq *q);
void evq_drain_fd(struct evq *q);

#endif
