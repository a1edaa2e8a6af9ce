// SPDX-License-Identifier: BSD-3-Clause
/* dlopen pam_ringfence.so with RTLD_NOW (every symbol must resolve) and check
 * that its dynamic symbol table exports exactly the six pam_sm_* entry points. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *module_path;

static const char *const expected[] = {
    "pam_sm_acct_mgmt",    "pam_sm_authenticate", "pam_sm_chauthtok",
    "pam_sm_close_session", "pam_sm_open_session", "pam_sm_setcred",
};

static void test_loads_with_rtld_now(void **state) {
    (void)state;
    void *h = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fail_msg("dlopen: %s", dlerror());
    }
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; ++i) {
        assert_non_null(dlsym(h, expected[i]));
    }
    dlclose(h);
}

/* Walk the module's .dynsym through the dynamic section of the loaded image. */
static void test_exports_only_pam_sm(void **state) {
    (void)state;
    void *h = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    struct link_map *map = NULL;
    assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &map), 0);
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const Elf32_Word *gnu_hash = NULL;
    const Elf32_Word *sysv_hash = NULL;
    for (const ElfW(Dyn) *d = map->l_ld; d->d_tag != DT_NULL; ++d) {
        if (d->d_tag == DT_SYMTAB) symtab = (const ElfW(Sym) *)d->d_un.d_ptr;
        if (d->d_tag == DT_STRTAB) strtab = (const char *)d->d_un.d_ptr;
        if (d->d_tag == DT_GNU_HASH) gnu_hash = (const Elf32_Word *)d->d_un.d_ptr;
        if (d->d_tag == DT_HASH) sysv_hash = (const Elf32_Word *)d->d_un.d_ptr;
    }
    assert_non_null(symtab);
    assert_non_null(strtab);
    /* Number of dynamic symbols: from DT_HASH, or by walking DT_GNU_HASH chains. */
    size_t nsyms = 0;
    if (sysv_hash != NULL) {
        nsyms = sysv_hash[1];
    } else {
        assert_non_null(gnu_hash);
        Elf32_Word nbuckets = gnu_hash[0], symoffset = gnu_hash[1], bloom_size = gnu_hash[2];
        const Elf32_Word *buckets = gnu_hash + 4 + bloom_size * (sizeof(ElfW(Addr)) / 4);
        const Elf32_Word *chain = buckets + nbuckets;
        Elf32_Word last = 0;
        for (Elf32_Word b = 0; b < nbuckets; ++b) {
            if (buckets[b] > last) last = buckets[b];
        }
        if (last >= symoffset) {
            while (!(chain[last - symoffset] & 1)) ++last;
            nsyms = last + 1;
        } else {
            nsyms = symoffset;
        }
    }
    int found = 0;
    for (size_t i = 1; i < nsyms; ++i) {
        const ElfW(Sym) *s = &symtab[i];
        if (s->st_shndx == SHN_UNDEF) continue;
        int bind = ELF64_ST_BIND(s->st_info);
        if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) continue;
        const char *name = strtab + s->st_name;
        int ok = 0;
        for (size_t j = 0; j < sizeof expected / sizeof expected[0]; ++j) {
            if (strcmp(name, expected[j]) == 0) ok = 1;
        }
        if (!ok) {
            fail_msg("unexpected exported symbol: %s", name);
        }
        ++found;
    }
    assert_int_equal(found, (int)(sizeof expected / sizeof expected[0]));
    dlclose(h);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODULE.so\n", argv[0]);
        return 2;
    }
    module_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_with_rtld_now),
        cmocka_unit_test(test_exports_only_pam_sm),
    };
    return cmocka_run_group_tests_name("pam_ringfence ABI", tests, NULL, NULL);
}
