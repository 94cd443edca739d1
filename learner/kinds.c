#include "kinds.h"

#include <string.h>

gpsc_kind_fn gpsc_kind_lookup(const char *kind)
{
    const gpsc_kind_entry_t *tables[] = {
#ifdef GPSC_HAVE_KINDS_MODEL
        gpsc_kinds_model,
#endif
#ifdef GPSC_HAVE_KINDS_TRAJ
        gpsc_kinds_traj,
#endif
        NULL};
    for (int t = 0; tables[t]; t++)
        for (const gpsc_kind_entry_t *e = tables[t]; e->kind; e++)
            if (strcmp(e->kind, kind) == 0)
                return e->fn;
    return NULL;
}
