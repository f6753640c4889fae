#define _GNU_SOURCE /* dladdr */
#include "inprocess_loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t loading = PTHREAD_MUTEX_INITIALIZER;
static void* handle;
static inprocess_authenticate_function authenticate;
static char load_error[512];

/* The verifier beside this module (build trees, tests), else where the packages put it:
 * ../pam_oauth2/ from the PAM directory. Both are chosen by whoever installed the module; nothing
 * comes from the environment. */
static void verifier_path(char* path, size_t size)
{
    Dl_info self;
    memset(&self, 0, sizeof self);
    if (dladdr(&load_error, &self) == 0 || self.dli_fname == NULL || strrchr(self.dli_fname, '/') == NULL) {
        snprintf(path, size, "%s", INPROCESS_FILE_NAME);
        return;
    }
    const int directory = (int)(strrchr(self.dli_fname, '/') - self.dli_fname + 1);
    struct stat st;
    snprintf(path, size, "%.*s%s", directory, self.dli_fname, INPROCESS_FILE_NAME);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        return;
    }
    snprintf(path, size, "%.*s../pam_oauth2/%s", directory, self.dli_fname, INPROCESS_FILE_NAME);
}

static void load(void)
{
    char path[4096];
    verifier_path(path, sizeof path);
    void* opened = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (opened == NULL) {
        const char* error = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load the verifier %.300s: %.150s", path,
                 error != NULL ? error : "unknown error");
        return;
    }
    /* POSIX guarantees dlsym's object pointer converts to a function pointer; memcpy says so in ISO C. */
    inprocess_abi_function abi = NULL;
    inprocess_authenticate_function entry = NULL;
    void* abi_symbol = dlsym(opened, "pam_oauth2_inprocess_abi");
    void* entry_symbol = dlsym(opened, "pam_oauth2_inprocess_authenticate");
    memcpy(&abi, &abi_symbol, sizeof abi);
    memcpy(&entry, &entry_symbol, sizeof entry);
    if (abi == NULL || entry == NULL || abi() != INPROCESS_ABI_VERSION) {
        snprintf(load_error, sizeof load_error, "the verifier %.300s does not belong to this build of pam_oauth2.so",
                 path);
        dlclose(opened);
        return;
    }
    handle = opened;
    authenticate = entry;
}

inprocess_authenticate_function inprocess_load(char* why, size_t why_size)
{
    pthread_mutex_lock(&loading);
    if (handle == NULL) {
        load();
    }
    inprocess_authenticate_function entry = authenticate;
    if (entry == NULL) {
        snprintf(why, why_size, "%s", load_error);
    }
    pthread_mutex_unlock(&loading);
    return entry;
}

/* Hosts such as pgbouncer load and unload pam_oauth2.so for every login: the verifier goes with it. */
__attribute__((destructor)) static void unload(void)
{
    if (handle != NULL) {
        dlclose(handle);
        handle = NULL;
        authenticate = NULL;
    }
}
