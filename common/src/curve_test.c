/* Tests for CURVE key files: key pairs written and read back (modes,
 * matching halves), refusal of key files others can read, and allow-list
 * parsing (comments, labels, directories). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/curve.h"
#include "cairn/error.h"
#include "cairn/secret_file.h"

static char s_dir[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/cairn-curve-test-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_dir, name);
}

static void s_write(const char *path, const char *text, unsigned mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static unsigned s_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static void a_saved_key_pair_loads_back_with_the_same_keys(void **state)
{
    (void)state;
    char key[128], pub[128], err[512];
    s_path(key, sizeof key, "a.key");
    s_path(pub, sizeof pub, "a.key.pub");
    cairn_curve_keypair_t *kp = NULL, *back = NULL;
    assert_int_equal(cairn_curve_keypair_generate(&kp), 0);
    assert_int_equal(cairn_curve_keypair_save(kp, key, pub, "ledger", false), 0);
    assert_int_equal(s_mode(key), 0600);
    assert_int_equal(s_mode(pub), 0644);
    assert_int_equal(cairn_curve_keypair_load(key, &back, err, sizeof err), 0);
    assert_memory_equal(cairn_curve_keypair_public(kp), cairn_curve_keypair_public(back), 32);
    assert_memory_equal(cairn_curve_keypair_secret(kp), cairn_curve_keypair_secret(back), 32);

    uint8_t server[32];
    assert_int_equal(cairn_curve_public_load(pub, server, err, sizeof err), 0);
    assert_memory_equal(server, cairn_curve_keypair_public(kp), 32);

    /* never overwritten without force */
    assert_int_equal(cairn_curve_keypair_save(back, key, pub, NULL, false), -EEXIST);
    assert_int_equal(cairn_curve_keypair_save(back, key, pub, NULL, true), 0);
    cairn_curve_keypair_destroy(&kp);
    cairn_curve_keypair_destroy(&back);
    assert_null(back);
}

static void a_key_file_group_or_others_can_read_is_refused(void **state)
{
    (void)state;
    char key[128], pub[128], err[512];
    s_path(key, sizeof key, "open.key");
    s_path(pub, sizeof pub, "open.key.pub");
    cairn_curve_keypair_t *kp = NULL;
    assert_int_equal(cairn_curve_keypair_generate(&kp), 0);
    assert_int_equal(cairn_curve_keypair_save(kp, key, pub, NULL, false), 0);
    cairn_curve_keypair_destroy(&kp);
    assert_int_equal(chmod(key, 0640), 0);
    assert_int_equal(cairn_curve_keypair_load(key, &kp, err, sizeof err), CAIRN_EINVALID);
    assert_null(kp);
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, "0640"));
    assert_int_equal(cairn_secret_file_check(key, err, sizeof err), CAIRN_EINVALID);
    assert_int_equal(chmod(key, 0400), 0);
    assert_int_equal(cairn_secret_file_check(key, err, sizeof err), 0);
    /* a directory is not a key file */
    assert_int_equal(cairn_secret_file_check(s_dir, err, sizeof err), CAIRN_EINVALID);
}

static void a_key_pair_whose_halves_differ_is_refused(void **state)
{
    (void)state;
    char path[128], text[512], err[512], pa[41], sb[41];
    cairn_curve_keypair_t *a = NULL, *b = NULL, *kp = NULL;
    assert_int_equal(cairn_curve_keypair_generate(&a), 0);
    assert_int_equal(cairn_curve_keypair_generate(&b), 0);
    cairn_curve_z85(cairn_curve_keypair_public(a), pa);
    cairn_curve_z85(cairn_curve_keypair_secret(b), sb);
    snprintf(text, sizeof text, "# mixed\npublic-key %s\nsecret-key %s\n", pa, sb);
    s_path(path, sizeof path, "mixed.key");
    s_write(path, text, 0600);
    assert_int_equal(cairn_curve_keypair_load(path, &kp, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "does not belong"));
    /* and a file without the two lines is not a key pair */
    s_path(path, sizeof path, "half.key");
    snprintf(text, sizeof text, "public-key %s\n", pa);
    s_write(path, text, 0600);
    assert_int_equal(cairn_curve_keypair_load(path, &kp, err, sizeof err), CAIRN_EPARSE);
    assert_non_null(strstr(err, "cairn keygen --curve"));
    cairn_curve_keypair_destroy(&a);
    cairn_curve_keypair_destroy(&b);
}

/* A fresh public key whose Z85 text begins with c (bounded search). */
static void s_key_starting_with(char c, uint8_t key[32], char z85[41])
{
    for (int i = 0; i < 20000; i++) {
        cairn_curve_keypair_t *kp = NULL;
        assert_int_equal(cairn_curve_keypair_generate(&kp), 0);
        memcpy(key, cairn_curve_keypair_public(kp), 32);
        cairn_curve_keypair_destroy(&kp);
        cairn_curve_z85(key, z85);
        if (z85[0] == c)
            return;
    }
    fail_msg("no key starting with %c in 20000 tries", c);
}

static void allow_lists_take_comments_labels_and_blank_lines(void **state)
{
    (void)state;
    uint8_t k1[32], k2[32], other[32];
    char z1[41], z2[41], zo[41], text[1024], err[512];
    s_key_starting_with('%', k1, z1); /* the last Z85 letter a key can start with */
    s_key_starting_with('a', k2, z2);
    s_key_starting_with('b', other, zo);
    snprintf(text, sizeof text,
             "# clients of the ledger api\n\n%s\n   %s  cairn-ingest on host-b\n#%s\n", z1, z2,
             "a comment without a space");
    cairn_curve_allow_t *allow = NULL;
    assert_int_equal(cairn_curve_allow_parse(text, strlen(text), "allow", &allow, err, sizeof err),
                     0);
    assert_int_equal(cairn_curve_allow_count(allow), 2);
    assert_true(cairn_curve_allow_contains(allow, k1));
    assert_true(cairn_curve_allow_contains(allow, k2));
    assert_false(cairn_curve_allow_contains(allow, other));
    cairn_curve_allow_destroy(&allow);
    assert_null(allow);
}

static void a_bad_allow_list_line_is_named_by_file_and_line(void **state)
{
    (void)state;
    char err[512];
    cairn_curve_allow_t *allow = NULL;
    const char *text = "# ok\nnot-a-key\n";
    assert_int_equal(
        cairn_curve_allow_parse(text, strlen(text), "ledger.allow", &allow, err, sizeof err),
        CAIRN_EPARSE);
    assert_null(allow);
    assert_non_null(strstr(err, "ledger.allow:2:"));
    /* 40 characters outside the Z85 alphabet */
    text = "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\n";
    assert_int_equal(cairn_curve_allow_parse(text, strlen(text), "x", &allow, err, sizeof err),
                     CAIRN_EPARSE);
    /* a list that allows nobody is a mistake */
    text = "# nobody\n\n";
    assert_int_equal(cairn_curve_allow_parse(text, strlen(text), "empty", &allow, err, sizeof err),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "no public key"));
}

static void a_directory_of_pub_files_is_an_allow_list(void **state)
{
    (void)state;
    char dir[128], path[160], pub[160], err[512];
    s_path(dir, sizeof dir, "allow.d");
    assert_int_equal(mkdir(dir, 0700), 0);
    cairn_curve_allow_t *allow = NULL;
    assert_int_equal(cairn_curve_allow_load(dir, &allow, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "*.pub"));
    cairn_curve_keypair_t *kp[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/k%d.key", dir, i);
        snprintf(pub, sizeof pub, "%s/k%d.key.pub", dir, i);
        assert_int_equal(cairn_curve_keypair_generate(&kp[i]), 0);
        assert_int_equal(cairn_curve_keypair_save(kp[i], path, pub, NULL, false), 0);
    }
    /* the secret files beside them are not read */
    assert_int_equal(cairn_curve_allow_load(dir, &allow, err, sizeof err), 0);
    assert_int_equal(cairn_curve_allow_count(allow), 2);
    assert_true(cairn_curve_allow_contains(allow, cairn_curve_keypair_public(kp[0])));
    assert_true(cairn_curve_allow_contains(allow, cairn_curve_keypair_public(kp[1])));
    cairn_curve_allow_destroy(&allow);

    /* a server's public key file holds one key */
    snprintf(path, sizeof path, "%s/both", s_dir);
    char z0[41], z1[41], text[256];
    cairn_curve_z85(cairn_curve_keypair_public(kp[0]), z0);
    cairn_curve_z85(cairn_curve_keypair_public(kp[1]), z1);
    snprintf(text, sizeof text, "%s\n%s\n", z0, z1);
    s_write(path, text, 0644);
    uint8_t server[32];
    assert_int_equal(cairn_curve_public_load(path, server, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "holds 2"));
    /* and a key pair file is not a public key file */
    snprintf(path, sizeof path, "%s/k0.key", dir);
    assert_int_equal(cairn_curve_public_load(path, server, err, sizeof err), CAIRN_EPARSE);
    cairn_curve_keypair_destroy(&kp[0]);
    cairn_curve_keypair_destroy(&kp[1]);
}

static void a_secret_file_is_read_into_guarded_memory_within_its_limit(void **state)
{
    (void)state;
    char path[128], err[512];
    s_path(path, sizeof path, "token");
    s_write(path, "s3cret\n", 0600);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_secret_file_read(path, 64, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 7);
    assert_string_equal(buf, "s3cret\n");
    cairn_secret_file_free(&buf);
    assert_null(buf);
    assert_int_equal(cairn_secret_file_read(path, 4, &buf, &len, err, sizeof err), CAIRN_ETOOLARGE);
    assert_int_equal(cairn_secret_file_read("/nonexistent/key", 4, &buf, &len, err, sizeof err),
                     -ENOENT);
    assert_null(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_saved_key_pair_loads_back_with_the_same_keys),
        cmocka_unit_test(a_key_file_group_or_others_can_read_is_refused),
        cmocka_unit_test(a_key_pair_whose_halves_differ_is_refused),
        cmocka_unit_test(allow_lists_take_comments_labels_and_blank_lines),
        cmocka_unit_test(a_bad_allow_list_line_is_named_by_file_and_line),
        cmocka_unit_test(a_directory_of_pub_files_is_an_allow_list),
        cmocka_unit_test(a_secret_file_is_read_into_guarded_memory_within_its_limit),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
