#include "inprocess_loader.h"

#include "module_loader.h"

#include <pthread.h>
#include <stdio.h>

static const struct module_spec verifier = {"verifier", INPROCESS_FILE_NAME, "pam_oauth2_inprocess_abi",
                                            "pam_oauth2_inprocess_authenticate"};

static pthread_mutex_t loading = PTHREAD_MUTEX_INITIALIZER;
static struct loaded_module loaded;
static char load_error[512];

inprocess_authenticate_function inprocess_load(char* why, size_t why_size)
{
    pthread_mutex_lock(&loading);
    if (loaded.handle == NULL) {
        module_load(&verifier, &loaded, load_error, sizeof load_error);
    }
    inprocess_authenticate_function entry = NULL;
    if (loaded.handle != NULL) {
        /* A conversion between function pointer types: the entry point has this type (inprocess_abi.h). */
        entry = (inprocess_authenticate_function)loaded.entry;
    } else {
        snprintf(why, why_size, "%s", load_error);
    }
    pthread_mutex_unlock(&loading);
    return entry;
}

/* Hosts such as pgbouncer load and unload pam_oauth2.so for every login: the verifier goes with it. */
__attribute__((destructor)) static void unload(void)
{
    module_unload(&loaded);
}
