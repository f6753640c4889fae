#define _GNU_SOURCE /* dladdr */
#include "module_loader.h"

#include "pam_oauth2_abi_stamp.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Any object of this library: dladdr() on it names the shared object the loader is linked into. */
static const char anchor = 0;

void module_path(const char* file_name, char* path, size_t path_size)
{
    Dl_info self;
    memset(&self, 0, sizeof self);
    const char* slash = NULL;
    if (dladdr(&anchor, &self) != 0 && self.dli_fname != NULL) {
        slash = strrchr(self.dli_fname, '/');
    }
    if (slash == NULL) {
        snprintf(path, path_size, "%s", file_name);
        return;
    }
    const int directory = (int)(slash - self.dli_fname + 1);
    struct stat st;
    snprintf(path, path_size, "%.*s%s", directory, self.dli_fname, file_name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        return;
    }
    snprintf(path, path_size, "%.*s../pam_oauth2/%s", directory, self.dli_fname, file_name);
}

/* POSIX guarantees dlsym's object pointer converts to a function pointer; memcpy says so in ISO C. */
static module_function find_function(void* handle, const char* name)
{
    module_function function = NULL;
    void* symbol = dlsym(handle, name);
    memcpy(&function, &symbol, sizeof function);
    return function;
}

int module_load_path(const struct module_spec* spec, const char* path, int stamp, struct loaded_module* module,
                     char* why, size_t why_size)
{
    memset(module, 0, sizeof *module);
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char* error = dlerror();
        snprintf(why, why_size, "cannot load the %s %.300s: %.150s", spec->what, path,
                 error != NULL ? error : "unknown error");
        return -1;
    }
    int (*stamp_of)(void) = NULL;
    const module_function stamp_function = find_function(handle, spec->stamp_symbol);
    const module_function entry = find_function(handle, spec->entry_symbol);
    memcpy(&stamp_of, &stamp_function, sizeof stamp_of);
    if (stamp_of == NULL || entry == NULL) {
        snprintf(why, why_size, "the %s %.300s does not belong to this build of pam_oauth2.so (it lacks %s or %s)",
                 spec->what, path, spec->stamp_symbol, spec->entry_symbol);
        dlclose(handle);
        return -1;
    }
    const int found = stamp_of();
    if (found != stamp) {
        snprintf(why, why_size,
                 "the %s %.300s does not belong to this build of pam_oauth2.so (ABI stamp %08x, expected %08x: "
                 "install the files of one build together)",
                 spec->what, path, (unsigned)found, (unsigned)stamp);
        dlclose(handle);
        return -1;
    }
    module->handle = handle;
    module->entry = entry;
    return 0;
}

int module_load(const struct module_spec* spec, struct loaded_module* module, char* why, size_t why_size)
{
    char path[4096];
    module_path(spec->file_name, path, sizeof path);
    return module_load_path(spec, path, PAM_OAUTH2_ABI_STAMP, module, why, why_size);
}

void module_unload(struct loaded_module* module)
{
    if (module->handle != NULL) {
        dlclose(module->handle);
    }
    memset(module, 0, sizeof *module);
}
