/* Loads one shared object of this build on first need: pam_oauth2.so loads the verifier
 * pam_oauth2_inprocess.so, and the verifier loads the HTTP transport pam_oauth2_transport.so. Both
 * hops find the file the same way, open it with the same flags, refuse one built from other
 * boundary headers (the ABI stamp) and word their errors the same way. */
#ifndef PAM_OAUTH2_MODULE_LOADER_H
#define PAM_OAUTH2_MODULE_LOADER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What to load and how to name it in errors. */
struct module_spec {
    const char* what;         /* "verifier", "HTTP transport": "cannot load the <what> <path>: ..." */
    const char* file_name;    /* "pam_oauth2_inprocess.so" */
    const char* stamp_symbol; /* int (void), answering the ABI stamp it was built with */
    const char* entry_symbol; /* the entry point handed back */
};

/* Any function pointer; the caller converts the entry point to its real type. */
typedef void (*module_function)(void);

/* A loaded shared object: `handle` for module_unload, `entry` the resolved entry point. */
struct loaded_module {
    void* handle;
    module_function entry;
};

/* Where `file_name` is looked up: beside the shared object (or program) this loader is linked into
 * (build trees, tests), else in ../pam_oauth2/ from there (where the packages put it beside the PAM
 * directory). Both are chosen by whoever installed the module; nothing comes from the environment.
 * Just `file_name` when the loader cannot tell where it is. */
void module_path(const char* file_name, char* path, size_t path_size);

/* Opens `path` (RTLD_NOW | RTLD_LOCAL), checks that its stamp symbol answers `stamp` and resolves
 * its entry point. 0 with *module filled, or -1 with *module zeroed, nothing left open and `why`
 * saying what failed, naming spec->what and `path`. */
int module_load_path(const struct module_spec* spec, const char* path, int stamp, struct loaded_module* module,
                     char* why, size_t why_size);

/* module_load_path() of module_path(spec->file_name) with this build's stamp (PAM_OAUTH2_ABI_STAMP). */
int module_load(const struct module_spec* spec, struct loaded_module* module, char* why, size_t why_size);

/* Closes what module_load() opened and zeroes *module; nothing when it holds nothing. */
void module_unload(struct loaded_module* module);

#ifdef __cplusplus
}
#endif

#endif
