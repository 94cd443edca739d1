#include "error.h"

const char *gpsc_strerror(int err)
{
    switch (err) {
    case GPSC_OK:
        return "success";
#define GPSC_X_(name, val, msg)                                                \
    case GPSC_##name:                                                          \
        return msg;
        GPSC_ERRNO_MAP(GPSC_X_)
#undef GPSC_X_
    default:
        return "unknown error";
    }
}

const char *gpsc_errname(int err)
{
    switch (err) {
    case GPSC_OK:
        return "GPSC_OK";
#define GPSC_X_(name, val, msg)                                                \
    case GPSC_##name:                                                          \
        return "GPSC_" #name;
        GPSC_ERRNO_MAP(GPSC_X_)
#undef GPSC_X_
    default:
        return "GPSC_E?";
    }
}
