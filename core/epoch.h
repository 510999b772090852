/* Quiescent-state reclamation: free a swapped-out shared table once no worker can still see it. */
#ifndef SLUICE_CORE_EPOCH_H
#define SLUICE_CORE_EPOCH_H

#include <stdint.h>

typedef void (*epoch_free_fn)(void *p);

/* Set the number of reader threads (workers). Main thread, before any worker starts. */
int epoch_init(unsigned nreaders);
void epoch_shutdown(void); /* frees everything still retired; after workers stopped */

/* A reader brackets each event batch that may dereference shared tables. Reader `id` only. */
void epoch_enter(unsigned id);
void epoch_leave(unsigned id);

/* Hand p to be freed with fn after every reader has left any batch that began before this call.
 * Writer threads (health checker, main); serialised internally. */
void epoch_retire(void *p, epoch_free_fn fn);

/* Free what can be freed now. Called by the writer periodically. */
void epoch_reclaim(void);

#endif
