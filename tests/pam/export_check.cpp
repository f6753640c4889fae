// The module must export the three pam_sm_* entry points and no other PAM entry point (pam-u2f's
// dlsym check). That nothing else at all is exported is checked on the dynamic symbol table by
// export_table.sh, since dlsym also searches the module's dependencies.
#include <dlfcn.h>

#include <cstdio>
#include <initializer_list>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s pam_oauth2.so\n", argv[0]);
        return 2;
    }
    void* module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (module == nullptr) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int failures = 0;
    for (const char* wanted : {"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt"}) {
        if (dlsym(module, wanted) == nullptr) {
            std::fprintf(stderr, "missing export %s\n", wanted);
            ++failures;
        }
    }
    for (const char* hidden : {"pam_sm_open_session", "pam_sm_close_session", "pam_sm_chauthtok"}) {
        if (dlsym(module, hidden) != nullptr) {
            std::fprintf(stderr, "unexpected export %s\n", hidden);
            ++failures;
        }
    }
    dlclose(module);
    std::printf("%s\n", failures == 0 ? "exports ok" : "exports wrong");
    return failures == 0 ? 0 : 1;
}
