/* Tests for `cairn keygen`: where the files go, their modes, that the key
 * loads back and matches its vkey, and that nothing is overwritten without
 * --force (the ledger's key and an approver's). */
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

#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"

static char s_tmp[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_tmp, sizeof s_tmp, "/tmp/cairn-keygen-test-XXXXXX");
    return mkdtemp(s_tmp) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned s_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static void the_vkey_sits_beside_the_key_or_in_out_dir(void **state)
{
    (void)state;
    char *key = NULL, *vkey = NULL;
    assert_int_equal(cli_keygen_paths(".cairn/keys/ledger.key", NULL, &key, &vkey), 0);
    assert_string_equal(key, ".cairn/keys/ledger.key");
    assert_string_equal(vkey, ".cairn/keys/ledger.key.vkey");
    free(key);
    free(vkey);
    assert_int_equal(cli_keygen_paths("/srv/cairn/keys/ledger.key", "/tmp/out//", &key, &vkey), 0);
    assert_string_equal(key, "/tmp/out/ledger.key");
    assert_string_equal(vkey, "/tmp/out/ledger.key.vkey");
    free(key);
    free(vkey);
}

static void a_new_key_is_secret_and_its_vkey_public(void **state)
{
    (void)state;
    char key[128], vkey_path[160], dir[96], err[512];
    char *vkey = NULL, *stored = NULL;
    size_t len = 0;
    snprintf(dir, sizeof dir, "%s/a/keys", s_tmp);
    snprintf(key, sizeof key, "%s/ledger.key", dir);
    snprintf(vkey_path, sizeof vkey_path, "%s.vkey", key);
    umask(022);
    assert_int_equal(
        cli_keygen_write("cairn.local/ledger", key, vkey_path, false, &vkey, err, sizeof err), 0);
    assert_int_equal(s_mode(dir), 0700);
    assert_int_equal(s_mode(key), 0600);
    assert_int_equal(s_mode(vkey_path), 0644);

    /* The key loads (the ledger's own check refuses loose modes) and its
     * vkey is the one written. */
    cairn_note_signer_t *signer = NULL;
    char *derived = NULL;
    assert_int_equal(cairn_note_signer_load(key, &signer), 0);
    assert_string_equal(cairn_note_signer_name(signer), "cairn.local/ledger");
    assert_int_equal(cairn_note_signer_vkey(signer, &derived), 0);
    assert_string_equal(derived, vkey);
    assert_int_equal(cairn_read_file(vkey_path, 4096, &stored, &len), 0);
    assert_int_equal(len, strlen(vkey) + 1);
    assert_int_equal(strncmp(stored, vkey, strlen(vkey)), 0);
    assert_int_equal(stored[len - 1], '\n');
    free(stored);
    free(derived);
    cairn_note_signer_destroy(&signer);

    /* A second run refuses and changes nothing. */
    char *again = NULL;
    assert_int_equal(
        cli_keygen_write("cairn.local/ledger", key, vkey_path, false, &again, err, sizeof err),
        -EEXIST);
    assert_null(again);
    assert_non_null(strstr(err, "already exists; pass --force to replace it"));
    assert_int_equal(cairn_note_signer_load(key, &signer), 0);
    assert_int_equal(cairn_note_signer_vkey(signer, &derived), 0);
    assert_string_equal(derived, vkey);
    free(derived);
    cairn_note_signer_destroy(&signer);

    /* With force, a new key replaces both files. */
    assert_int_equal(
        cli_keygen_write("cairn.local/ledger", key, vkey_path, true, &again, err, sizeof err), 0);
    assert_string_not_equal(again, vkey);
    assert_int_equal(s_mode(key), 0600);
    assert_int_equal(cairn_note_signer_load(key, &signer), 0);
    assert_int_equal(cairn_note_signer_vkey(signer, &derived), 0);
    assert_string_equal(derived, again);
    free(derived);
    cairn_note_signer_destroy(&signer);
    free(again);
    free(vkey);
}

static void a_vkey_left_behind_also_blocks_a_new_key(void **state)
{
    (void)state;
    char key[128], vkey_path[160], err[512];
    char *vkey = NULL;
    snprintf(key, sizeof key, "%s/b/ledger.key", s_tmp);
    snprintf(vkey_path, sizeof vkey_path, "%s.vkey", key);
    char dir[96];
    snprintf(dir, sizeof dir, "%s/b", s_tmp);
    assert_int_equal(cairn_mkdir_p(dir, 0700), 0);
    FILE *f = fopen(vkey_path, "w");
    fputs("old\n", f);
    fclose(f);
    assert_int_equal(cli_keygen_write("n", key, vkey_path, false, &vkey, err, sizeof err), -EEXIST);
    assert_non_null(strstr(err, vkey_path));
    assert_int_equal(access(key, F_OK), -1);
}

static void a_bad_name_is_refused_before_anything_is_written(void **state)
{
    (void)state;
    char key[128], vkey_path[160], err[512];
    char *vkey = NULL;
    snprintf(key, sizeof key, "%s/c/ledger.key", s_tmp);
    snprintf(vkey_path, sizeof vkey_path, "%s.vkey", key);
    const char *bad[] = {"", "a+b", "has space", "tab\there"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cli_keygen_write(bad[i], key, vkey_path, false, &vkey, err, sizeof err),
                         CAIRN_EINVALID);
        assert_non_null(strstr(err, "is not a valid key name"));
    }
    char dir[96];
    snprintf(dir, sizeof dir, "%s/c", s_tmp);
    assert_int_equal(access(dir, F_OK), -1);
}

/* The first line of path (without its newline). */
static void s_first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, (int)len, f));
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static void an_approver_key_is_replaced_only_with_force(void **state)
{
    (void)state;
    char key[128], pub[160], err[256], first[256], again[256];
    snprintf(key, sizeof key, "%s/d/erin.key", s_tmp);
    snprintf(pub, sizeof pub, "%s.pub", key);
    char *argv[] = {"--approver", "--name", "erin", "-o", key, "--force"};
    cli_args_t args;
    assert_int_equal(cli_parse(&cli_cmd_keygen, 5, argv, &args, err, sizeof err), 0);
    assert_int_equal(cli_approver_keygen(&args), CLI_EXIT_OK);
    assert_int_equal(s_mode(key), 0600);
    assert_int_equal(s_mode(pub), 0644);
    s_first_line(pub, first, sizeof first);
    assert_int_equal(strncmp(first, "erin+", 5), 0);

    /* Without --force the key stays; with it, a new one replaces it. */
    assert_int_equal(cli_approver_keygen(&args), CLI_EXIT_USAGE);
    s_first_line(pub, again, sizeof again);
    assert_string_equal(again, first);
    assert_int_equal(cli_parse(&cli_cmd_keygen, 6, argv, &args, err, sizeof err), 0);
    assert_int_equal(cli_approver_keygen(&args), CLI_EXIT_OK);
    s_first_line(pub, again, sizeof again);
    assert_string_not_equal(again, first);

    /* A name a key cannot carry is a usage error too. */
    argv[2] = "erin jones";
    assert_int_equal(cli_parse(&cli_cmd_keygen, 5, argv, &args, err, sizeof err), 0);
    assert_int_equal(cli_approver_keygen(&args), CLI_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_vkey_sits_beside_the_key_or_in_out_dir),
        cmocka_unit_test(a_new_key_is_secret_and_its_vkey_public),
        cmocka_unit_test(a_vkey_left_behind_also_blocks_a_new_key),
        cmocka_unit_test(a_bad_name_is_refused_before_anything_is_written),
        cmocka_unit_test(an_approver_key_is_replaced_only_with_force),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
