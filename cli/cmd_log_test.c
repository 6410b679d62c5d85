/* Tests for `cairn log`, `cairn export` and `cairn verify` against a real
 * cairn-ledger on ipc:// endpoints in a temporary directory: every proof the
 * CLI prints is checked here with the library, as an auditor would check
 * it; then `log verify` runs on the stopped ledger's store, intact and with
 * one leaf overwritten. Output formatting is tested on constructed replies. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "cairn/bus.h"
#include "cairn/dsse.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"
#include "commands.h"
#include "layout.h"
#include "ledger_client.h"
#include "rpc.h"
#include "testledger.h"
#include "testrun.h"

#define S_ORIGIN "cairn.local/ledger"

static char s_dir[64];
static pid_t s_ledger = -1;

/* ---- output formatting on constructed replies ---- */

static char *s_capture_proof(const Cairn__V1__LedgerReply *reply, char **err_text)
{
    char *text = NULL, *etext = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&text, &len);
    FILE *err = open_memstream(&etext, &elen);
    cli_log_proof_render(out, err, reply);
    fclose(out);
    fclose(err);
    *err_text = etext;
    return text;
}

static void a_proof_without_a_checkpoint_prints_its_hashes_and_says_why(void **state)
{
    (void)state;
    uint8_t h1[32], h2[32];
    memset(h1, 0, sizeof h1);
    memset(h2, 0xff, sizeof h2);
    ProtobufCBinaryData hashes[] = {{32, h1}, {32, h2}};
    Cairn__V1__Proof p = CAIRN__V1__PROOF__INIT;
    p.index = 3;
    p.size = 6;
    p.hashes = hashes;
    p.n_hashes = 2;
    p.leaf_hash = hashes[0];
    Cairn__V1__LedgerReply reply = CAIRN__V1__LEDGER_REPLY__INIT;
    reply.proof = &p;
    char *err = NULL;
    char *text = s_capture_proof(&reply, &err);
    assert_string_equal(text, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                              "//////////////////////////////////////////8=\n");
    assert_non_null(strstr(err, "no checkpoint was signed at size 6"));
    free(text);
    free(err);

    json_t *obj = cli_log_proof_json(&reply);
    assert_int_equal(json_integer_value(json_object_get(obj, "index")), 3);
    assert_int_equal(json_integer_value(json_object_get(obj, "size")), 6);
    assert_int_equal(json_array_size(json_object_get(obj, "hashes")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(obj, "hashes"), 1)),
                        "//////////////////////////////////////////8=");
    assert_true(json_is_null(json_object_get(obj, "checkpoint")));
    assert_true(json_is_null(json_object_get(obj, "tlog_proof")));
    json_decref(obj);

    /* With a tlog-proof, that text is printed verbatim and nothing else. */
    p.tlog_proof = "c2sp.org/tlog-proof@v1\nindex 3\n...\n";
    text = s_capture_proof(&reply, &err);
    assert_string_equal(text, p.tlog_proof);
    assert_string_equal(err, "");
    free(text);
    free(err);
}

static void the_verify_report_names_the_first_bad_entry(void **state)
{
    (void)state;
    cairn_ledger_verify_report_t r;
    memset(&r, 0, sizeof r);
    r.size = 12;
    r.checkpoints = 4;
    r.payloads = 11;
    r.purged = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_log_verify_render(out, "/d/ledger", 0, &r);
    fclose(out);
    assert_string_equal(text, "OK: ledger /d/ledger verified: 12 entries, 4 signed checkpoints, "
                              "11 payloads checked, 1 purged\n");
    free(text);

    r.has_bad_index = true;
    r.bad_index = 7;
    snprintf(r.reason, sizeof r.reason, "entry 7: payload does not match its digest");
    out = open_memstream(&text, &len);
    cli_log_verify_render(out, "/d/ledger", CAIRN_EINTEGRITY, &r);
    fclose(out);
    assert_true(strncmp(text,
                        "FAILED: ledger /d/ledger: entry 7: payload does not match its "
                        "digest\nfirst entry that does not verify: 7\n",
                        100) == 0);
    free(text);
    json_t *obj = cli_log_verify_json("/d/ledger", CAIRN_EINTEGRITY, &r);
    assert_true(json_is_false(json_object_get(obj, "ok")));
    assert_int_equal(json_integer_value(json_object_get(obj, "bad_index")), 7);
    json_decref(obj);

    assert_int_equal(cli_log_verify_exit(0), 0);
    assert_int_equal(cli_log_verify_exit(CAIRN_EINTEGRITY), 1);
    assert_int_equal(cli_log_verify_exit(-ENOENT), 2);
    assert_int_equal(cli_log_verify_exit(CAIRN_ESTORE), 1);
}

/* ---- against a running ledger ---- */

typedef cli_test_run_t s_run_t;

/* Runs `cairn --data-dir DIR ARGS`, its output caught in the same directory. */
#define s_cairn(...) cli_test_cairn(s_dir, s_dir, __VA_ARGS__)
#define s_done cli_test_run_done

static void s_start_ledger(void)
{
    s_ledger = cli_test_ledger_start(s_dir);
}

static void s_stop_ledger(void)
{
    cli_test_ledger_stop(&s_ledger);
}

/* Sends one ledger request and returns the reply (status checked). */
static Cairn__V1__LedgerReply *s_call(Cairn__V1__LedgerRequest *req)
{
    return cli_test_ledger_call(s_dir, req);
}

static void s_append(const char *id, const char *change, const char *release)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    corr.change_id = (char *)change;
    corr.release_id = (char *)(release ? release : "");
    corr.commit_sha = "0123456789abcdef0123456789abcdef01234567";
    ev.id = (char *)id;
    ev.source = "/test";
    ev.spec_version = "1.0";
    ev.type = "dev.cdevents.change.created.0.4.0";
    ev.correlation = &corr;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    app.key = (char *)id;
    app.record = &rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &app;
    Cairn__V1__LedgerReply *reply = s_call(&req);
    CAIRN_CODEC_FREE(&reply);
}

/* The leaf bytes of entry index, from a replay. */
static char *s_leaf(uint64_t index, size_t *len_out)
{
    Cairn__V1__ReplayRequest rp = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    rp.from_index = index;
    rp.limit = 1;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &rp;
    Cairn__V1__LedgerReply *reply = s_call(&req);
    assert_int_equal(reply->n_entries, 1);
    char *leaf = malloc(reply->entries[0]->leaf.len + 1);
    memcpy(leaf, reply->entries[0]->leaf.data, reply->entries[0]->leaf.len);
    leaf[reply->entries[0]->leaf.len] = '\0';
    *len_out = reply->entries[0]->leaf.len;
    CAIRN_CODEC_FREE(&reply);
    return leaf;
}

/* Decodes base64 text of a 32-byte hash. */
static void s_hash(const char *b64, uint8_t out[32])
{
    size_t n = 0;
    assert_int_equal(sodium_base642bin(out, 32, b64, strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(n, 32);
}

static int s_setup_ledger(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/cairn-log-test-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    s_start_ledger();
    s_append("e0", "CHG-1", NULL);
    s_append("e1", "CHG-2", "R-1");
    s_append("e2", "CHG-1", "R-1");
    s_append("e3", "CHG-2", NULL);
    s_append("e4", "CHG-1", NULL);
    return 0;
}

static int s_teardown_ledger(void **state)
{
    (void)state;
    s_stop_ledger();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *s_vkey_of_the_log(void)
{
    s_run_t r = s_cairn("log vkey");
    assert_int_equal(r.code, 0);
    char *nl = strchr(r.out, '\n');
    assert_non_null(nl);
    *nl = '\0';
    char *vkey = strdup(r.out);
    s_done(&r);
    return vkey;
}

static void log_vkey_and_checkpoint_show_the_signed_state(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log();
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    assert_string_equal(cairn_note_verifier_name(v), S_ORIGIN);

    s_run_t r = s_cairn("log vkey --json");
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(obj, "vkey")), vkey);
    assert_string_equal(json_string_value(json_object_get(obj, "name")), S_ORIGIN);
    json_decref(obj);
    s_done(&r);

    /* The checkpoint is printed verbatim: it verifies as it stands. */
    r = s_cairn("log checkpoint");
    assert_int_equal(r.code, 0);
    assert_true(strncmp(r.out, S_ORIGIN "\n5\n", strlen(S_ORIGIN) + 3) == 0);
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    assert_int_equal(cairn_checkpoint_open(r.out, strlen(r.out), v, NULL, &cp), 0);
    assert_int_equal(cp.size, 5);
    s_done(&r);

    r = s_cairn("log checkpoint --json");
    assert_int_equal(r.code, 0);
    obj = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(obj, "size")), 5);
    assert_string_equal(json_string_value(json_object_get(obj, "origin")), S_ORIGIN);
    uint8_t root[32];
    s_hash(json_string_value(json_object_get(obj, "root")), root);
    assert_memory_equal(root, cp.root, 32);
    json_decref(obj);
    s_done(&r);
    cairn_checkpoint_clear(&cp);
    cairn_note_verifier_destroy(&v);
    free(vkey);
}

static void log_prove_prints_a_tlog_proof_that_verifies_offline(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log();
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    s_run_t r = s_cairn("log prove 2");
    assert_int_equal(r.code, 0);
    assert_true(strncmp(r.out, "c2sp.org/tlog-proof@v1\nindex 2\n", 31) == 0);
    cairn_tlog_proof_t proof;
    memset(&proof, 0, sizeof proof);
    assert_int_equal(cairn_tlog_proof_parse(r.out, strlen(r.out), &proof), 0);
    size_t leaf_len = 0;
    char *leaf = s_leaf(2, &leaf_len);
    assert_int_equal(cairn_tlog_proof_verify(&proof, leaf, leaf_len, v, NULL, NULL), 0);
    /* The same proof does not hold for another leaf. */
    char *other = s_leaf(3, &leaf_len);
    assert_int_equal(cairn_tlog_proof_verify(&proof, other, leaf_len, v, NULL, NULL),
                     CAIRN_EINTEGRITY);
    cairn_tlog_proof_clear(&proof);
    s_done(&r);

    r = s_cairn("log prove 2 --json");
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(obj, "index")), 2);
    assert_int_equal(json_integer_value(json_object_get(obj, "size")), 5);
    assert_int_equal(json_array_size(json_object_get(obj, "hashes")),
                     cairn_merkle_inclusion_proof_count(2, 5));
    assert_non_null(strstr(json_string_value(json_object_get(obj, "checkpoint")), "\n5\n"));
    json_decref(obj);
    s_done(&r);

    r = s_cairn("log prove 9");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "cairn log prove: cairn-ledger refused: prove: index 9 is not "
                                  "in a tree of size 5; indexes run from 0 to 4"));
    s_done(&r);
    r = s_cairn("log prove 1 --size 9");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "prove: size 9 is beyond the log's size 5"));
    s_done(&r);
    r = s_cairn("log prove 4 --size 3");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "INDEX 4 is not in a tree of size 3"));
    s_done(&r);
    r = s_cairn("log prove two");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "INDEX must be a ledger index"));
    s_done(&r);
    free(leaf);
    free(other);
    cairn_note_verifier_destroy(&v);
    free(vkey);
}

/* The root of the signed checkpoint of size, via `log prove 0 --size`. */
static void s_root_at(uint64_t size, uint8_t root[32])
{
    s_run_t r = s_cairn("log prove 0 --size %llu --json", (unsigned long long)size);
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.out, 0, NULL);
    const char *note = json_string_value(json_object_get(obj, "checkpoint"));
    assert_non_null(note);
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    assert_int_equal(cairn_checkpoint_parse(note, (size_t)(strstr(note, "\n\n") - note) + 1, &cp),
                     0);
    assert_int_equal(cp.size, size);
    memcpy(root, cp.root, 32);
    cairn_checkpoint_clear(&cp);
    json_decref(obj);
    s_done(&r);
}

static void log_consistency_proves_the_log_only_grew(void **state)
{
    (void)state;
    uint8_t old_root[32], new_root[32], proof[64 * 32];
    s_root_at(2, old_root);
    s_root_at(5, new_root);
    s_run_t r = s_cairn("log consistency 2 5");
    assert_int_equal(r.code, 0);
    size_t n = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"))
        s_hash(line, proof + 32 * n++);
    assert_true(n > 0);
    assert_int_equal(cairn_merkle_verify_consistency(2, 5, old_root, new_root, proof, n), 0);
    /* A different old root does not pass. */
    old_root[0] ^= 1;
    assert_int_equal(cairn_merkle_verify_consistency(2, 5, old_root, new_root, proof, n),
                     CAIRN_EINTEGRITY);
    s_done(&r);

    r = s_cairn("log consistency 2 --json");
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(obj, "old_size")), 2);
    assert_int_equal(json_integer_value(json_object_get(obj, "size")), 5);
    assert_int_equal(json_array_size(json_object_get(obj, "hashes")), n);
    json_decref(obj);
    s_done(&r);

    r = s_cairn("log consistency 5 2");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "OLD (5) must not be larger than NEW (2)"));
    s_done(&r);
    r = s_cairn("log consistency 0 5");
    assert_int_equal(r.code, 2);
    s_done(&r);
    r = s_cairn("log consistency 2 9");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "cairn log consistency: cairn-ledger refused: consistency: "
                                  "size 9 is beyond the log's size 5"));
    s_done(&r);
}

/* Runs the auditor's own verifier (tests/auditor/verify_bundle.py: RFC 9162
 * written out in Python, hashlib's SHA-256, OpenSSL's Ed25519; no code of
 * ours) with args (trusted test strings); returns its exit code, its output
 * in *out. */
static int s_audit_args(const char *args, char **out)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char cmd[2048], path[128];
    size_t len;
    snprintf(path, sizeof path, "%s/audit.out", s_dir);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/auditor/verify_bundle.py' %s >'%s' 2>&1",
             src ? src : ".", args, path);
    int status = system(cmd);
    assert_int_equal(cairn_read_file(path, 1 << 20, out, &len), 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The auditor's verifier on a bundle. */
static int s_audit(const char *bundle, const char *vkey, char **out)
{
    char args[1024];
    snprintf(args, sizeof args, "'%s' --vkey '%s'", bundle, vkey);
    return s_audit_args(args, out);
}

/* Sets entries[i].key of bundle to a string. */
static void s_set_entry(json_t *bundle, size_t i, const char *key, const char *value)
{
    json_t *e = json_array_get(json_object_get(bundle, "entries"), i);
    assert_non_null(e);
    assert_int_equal(json_object_set_new(e, key, json_string(value)), 0);
}

/* Writes text to DIR/name, whose path goes in path[128]. */
static void s_put(char path[128], const char *name, const char *text)
{
    snprintf(path, 128, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void an_independent_verifier_sees_the_log_only_grew(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log(), args[1024], *out = NULL;
    char old_note[128], new_note[128], proof_file[128];
    /* What an auditor keeps: the checkpoint of size 2 from a receipt ... */
    s_run_t r = s_cairn("log prove 0 --size 2 --json");
    assert_int_equal(r.code, 0);
    json_t *old = json_loads(r.out, 0, NULL);
    s_done(&r);
    s_put(old_note, "old.note", json_string_value(json_object_get(old, "checkpoint")));
    /* ... and later the latest one, with the proof between them. */
    r = s_cairn("log consistency 2 --json");
    assert_int_equal(r.code, 0);
    json_t *now = json_loads(r.out, 0, NULL);
    s_done(&r);
    s_put(new_note, "new.note", json_string_value(json_object_get(now, "checkpoint")));
    char proof[64 * 48] = "";
    json_t *h;
    size_t i;
    json_array_foreach(json_object_get(now, "hashes"), i, h)
    {
        strcat(proof, json_string_value(h));
        strcat(proof, "\n");
    }
    s_put(proof_file, "consistency.txt", proof);
    snprintf(args, sizeof args, "--consistency '%s' '%s' '%s' --vkey '%s'", old_note, new_note,
             proof_file, vkey);
    if (s_audit_args(args, &out) != 0)
        fail_msg("%s", out);
    assert_string_equal(out, "OK: the log of size 5 extends the log of size 2\n");
    free(out);

    /* The checkpoints swapped, or a proof hash changed: refused. */
    snprintf(args, sizeof args, "--consistency '%s' '%s' '%s' --vkey '%s'", new_note, old_note,
             proof_file, vkey);
    assert_int_equal(s_audit_args(args, &out), 1);
    assert_string_equal(out, "consistency: the proof does not show that size 2 extends size 5\n");
    free(out);
    proof[0] = proof[0] == 'A' ? 'B' : 'A';
    s_put(proof_file, "consistency.txt", proof);
    snprintf(args, sizeof args, "--consistency '%s' '%s' '%s' --vkey '%s'", old_note, new_note,
             proof_file, vkey);
    assert_int_equal(s_audit_args(args, &out), 1);
    assert_non_null(strstr(out, "consistency: "));
    free(out);
    json_decref(old);
    json_decref(now);
    free(vkey);
}

static void an_independent_rfc9162_verifier_accepts_the_bundle(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log(), path[128], bad[128], *out = NULL;
    snprintf(path, sizeof path, "%s/r1-audit.json", s_dir);
    snprintf(bad, sizeof bad, "%s/r1-bad.json", s_dir);
    s_run_t r = s_cairn("export --release R-1 -o '%s'", path);
    assert_int_equal(r.code, 0);
    s_done(&r);
    if (s_audit(path, vkey, &out) != 0)
        fail_msg("%s", out);
    assert_string_equal(out, "OK: 5 entries\n");
    free(out);

    /* It is not blind: each kind of tampering fails it, as it fails ours. */
    static const char *const want[] = {
        "payload: entry 0: the payload's SHA-256 is not the leaf's\n",
        "inclusion: entry 1: the proof does not lead to the root of size 5\n",
        "signature: the signature by cairn.local/ledger does not verify\n",
        "chain: entry 4 of change CHG-1 names prev 2, which is not an earlier entry",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *b = json_load_file(path, 0, NULL);
        assert_non_null(b);
        if (i == 0) {
            s_set_entry(b, 0, "payload", "dGFtcGVyZWQ="); /* "tampered" */
        } else if (i == 1) {
            json_t *e = json_array_get(json_object_get(b, "entries"), 1);
            json_array_set_new(json_object_get(e, "inclusion"), 0,
                               json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        } else if (i == 2) {
            const char *note = json_string_value(json_object_get(b, "checkpoint"));
            char *moved = strdup(note), *size = strstr(moved, "\n5\n");
            assert_non_null(size);
            size[1] = '4'; /* the size line; the signature is over it */
            json_object_set_new(b, "checkpoint", json_string(moved));
            free(moved);
        } else {
            json_array_remove(json_object_get(b, "entries"), 2); /* index 2, CHG-1's middle */
        }
        assert_int_equal(json_dump_file(b, bad, JSON_COMPACT), 0);
        json_decref(b);
        assert_int_equal(s_audit(bad, vkey, &out), 1);
        if (!strstr(out, want[i]))
            fail_msg("case %zu: %s", i, out);
        free(out);
    }
    free(vkey);
}

static void an_exported_bundle_verifies_and_a_tampered_one_does_not(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log();
    s_run_t r = s_cairn("export --change CHG-1 -o '%s/chg1.json'", s_dir);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "chg1.json: 3 entries of change CHG-1, proven against "
                                  "checkpoint size 5\n"));
    assert_non_null(strstr(r.out, "verify it offline: cairn verify "));
    s_done(&r);
    char path[128];
    snprintf(path, sizeof path, "%s/chg1.json", s_dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    r = s_cairn("verify '%s' --vkey '%s'", path, vkey);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "OK: all 3 entries verified"));
    s_done(&r);

    /* A release's bundle carries each of its changes' whole chain. */
    r = s_cairn("export --release R-1 -o '%s/r1.json' --json", s_dir);
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(obj, "entries")), 5);
    assert_true(json_is_true(json_object_get(obj, "verified")));
    assert_string_equal(json_string_value(json_object_get(obj, "release")), "R-1");
    json_decref(obj);
    s_done(&r);

    /* Drop CHG-1's middle entry: the chain shows the gap. */
    json_t *b = json_load_file(path, 0, NULL);
    json_array_remove(json_object_get(b, "entries"), 1);
    assert_int_equal(json_dump_file(b, path, JSON_COMPACT), 0);
    json_decref(b);
    r = s_cairn("verify '%s' --vkey '%s'", path, vkey);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "entry 4 of change CHG-1 names prev 2, which is not in the "
                                  "bundle\n"));
    s_done(&r);

    r = s_cairn("export --change NOPE -o '%s/nope.json'", s_dir);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "export: no entry of the log names change 'NOPE'"));
    s_done(&r);
    free(vkey);
}

static void export_intoto_writes_signed_statements(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log();
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    s_run_t r = s_cairn("export --change CHG-2 --intoto '%s/chg2.intoto.jsonl'", s_dir);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "2 in-toto statements"));
    s_done(&r);
    char path[128], *text = NULL;
    size_t len = 0, lines = 0;
    snprintf(path, sizeof path, "%s/chg2.intoto.jsonl", s_dir);
    assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        char *type = NULL, *pt = NULL;
        uint8_t *payload = NULL;
        size_t plen = 0;
        assert_int_equal(cairn_dsse_verify(line, strlen(line), v, &type, &payload, &plen), 0);
        assert_string_equal(type, CAIRN_DSSE_INTOTO_TYPE);
        assert_int_equal(cairn_intoto_check(payload, plen, &pt), 0);
        json_t *st = json_loads((char *)payload, 0, NULL);
        json_t *pred = json_object_get(st, "predicate");
        assert_string_equal(json_string_value(json_object_get(pred, "change")), "CHG-2");
        free(type);
        free(pt);
        free(payload);
        json_decref(st);
    }
    assert_int_equal(lines, 2);
    free(text);

    /* The auditor's verifier reads them too (DSSE's PAE and in-toto written
     * out there), tied to the entries of a bundle it verified; a statement
     * changed after signing fails. */
    char args[1024], *out = NULL;
    r = s_cairn("export --change CHG-2 -o '%s/chg2.json'", s_dir);
    assert_int_equal(r.code, 0);
    s_done(&r);
    snprintf(args, sizeof args, "--intoto '%s' --vkey '%s' --bundle '%s/chg2.json'", path, vkey,
             s_dir);
    if (s_audit_args(args, &out) != 0)
        fail_msg("%s", out);
    assert_string_equal(out, "OK: 2 statements about entries of a verified bundle\n");
    free(out);
    assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
    json_t *env = json_loads(strtok(text, "\n"), 0, NULL);
    assert_non_null(env);
    json_object_set_new(env, "payload", json_string("e30=")); /* "{}" */
    free(text);
    snprintf(args, sizeof args, "%s/chg2-bad.intoto.jsonl", s_dir);
    assert_int_equal(json_dump_file(env, args, JSON_COMPACT), 0);
    json_decref(env);
    snprintf(args, sizeof args,
             "--intoto '%s/chg2-bad.intoto.jsonl' --vkey '%s' --bundle '%s/chg2.json'", s_dir, vkey,
             s_dir);
    assert_int_equal(s_audit_args(args, &out), 1);
    if (!strstr(out, "signature: line 1: no signature by the log key verifies\n"))
        fail_msg("%s", out);
    free(out);
    /* Statements about entries another bundle does not hold. */
    r = s_cairn("export --change CHG-1 -o '%s/chg1-whole.json'", s_dir);
    assert_int_equal(r.code, 0);
    s_done(&r);
    snprintf(args, sizeof args, "--intoto '%s' --vkey '%s' --bundle '%s/chg1-whole.json'", path,
             vkey, s_dir);
    assert_int_equal(s_audit_args(args, &out), 1);
    if (!strstr(out, "statement: line 1 is about entry 1, not in the bundle\n"))
        fail_msg("%s", out);
    free(out);
    cairn_note_verifier_destroy(&v);
    free(vkey);
}

static void log_verify_checks_the_store_without_the_daemon(void **state)
{
    (void)state;
    char *vkey = s_vkey_of_the_log();
    s_stop_ledger();
    s_run_t r = s_cairn("log vkey");
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "cairn up"));
    s_done(&r);

    r = s_cairn("log verify");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "OK: ledger "));
    assert_non_null(strstr(r.out, "verified: 5 entries, "));
    s_done(&r);
    r = s_cairn("log verify --vkey '%s' --json", vkey);
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.out, 0, NULL);
    assert_true(json_is_true(json_object_get(obj, "ok")));
    assert_int_equal(json_integer_value(json_object_get(obj, "size")), 5);
    assert_true(json_integer_value(json_object_get(obj, "checkpoints")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(obj, "checkpoint_file_size")), 5);
    json_decref(obj);
    s_done(&r);

    /* The checkpoint the ledger kept outside the store, as if the store had
     * been put back from a backup behind it, or replaced by another. */
    char kept[128], *note = NULL;
    size_t note_len = 0;
    snprintf(kept, sizeof kept, "%s/ledger.checkpoint", s_dir);
    assert_int_equal(cairn_read_file(kept, 65536, &note, &note_len), 0);
    char *size_line = strstr(note, "\n5\n");
    assert_non_null(size_line);
    size_line[1] = '9';
    assert_int_equal(cairn_write_file(kept, note, note_len, 0644, true), 0);
    r = s_cairn("log verify");
    assert_int_equal(r.code, 0); /* a backup is behind, and whole */
    assert_non_null(strstr(r.out, "the checkpoint file's checkpoint (size 9) is ahead of this "
                                  "store"));
    s_done(&r);
    r = s_cairn("log verify --json");
    assert_int_equal(r.code, 0);
    obj = json_loads(r.out, 0, NULL);
    assert_true(json_is_true(json_object_get(obj, "behind_checkpoint_file")));
    assert_int_equal(json_integer_value(json_object_get(obj, "checkpoint_file_size")), 9);
    json_decref(obj);
    s_done(&r);
    size_line[1] = '5';
    char root0 = size_line[3]; /* the root's first base64 digit, replaced by another */
    size_line[3] = root0 == 'A' ? 'B' : 'A';
    assert_int_equal(cairn_write_file(kept, note, note_len, 0644, true), 0);
    r = s_cairn("log verify");
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "it was replaced or altered"));
    s_done(&r);
    size_line[3] = root0;
    assert_int_equal(cairn_write_file(kept, note, note_len, 0644, true), 0);
    free(note);
    r = s_cairn("log verify");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "the checkpoint file's checkpoint (size 5) is the store's\n"));
    s_done(&r);

    /* Overwrite the leaf of entry 3, as someone with disk access might. */
    char path[128];
    snprintf(path, sizeof path, "%s/ledger", s_dir);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    cairn_ledger_dbs_t dbs;
    uint8_t key[8];
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, CAIRN_LEDGER_MAX_DBS), 0);
    assert_int_equal(mdb_env_set_mapsize(env, 1u << 30), 0);
    assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(cairn_ledger_layout_open(txn, false, &dbs), 0);
    cairn_u64_to_key(3, key);
    MDB_val k = {8, key}, val;
    cairn_ledger_record_parts_t parts;
    assert_int_equal(mdb_get(txn, dbs.entries, &k, &val), 0);
    assert_int_equal(cairn_ledger_record_parse(3, &val, &parts), 0);
    parts.leaf = "forged!\n\n"; /* same hashes and payload, another leaf */
    parts.leaf_len = 9;
    MDB_val forged = {cairn_ledger_record_size(parts.n_hashes, parts.leaf_len, parts.payload_len),
                      NULL};
    uint8_t *buf = malloc(forged.mv_size);
    assert_non_null(buf);
    cairn_ledger_record_write(&parts, buf);
    forged.mv_data = buf;
    assert_int_equal(mdb_put(txn, dbs.entries, &k, &forged, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    free(buf);
    mdb_env_close(env);

    r = s_cairn("log verify");
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "FAILED: ledger "));
    assert_non_null(strstr(r.out, "first entry that does not verify: 3\n"));
    s_done(&r);

    r = s_cairn("log verify --data-dir '%s/nothing-here'", s_dir);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "cairn log verify: "));
    s_done(&r);
    r = s_cairn("log verify --vkey nonsense");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "is neither a verifier key"));
    s_done(&r);
    free(vkey);
}

int main(void)
{
    const struct CMUnitTest formatting[] = {
        cmocka_unit_test(a_proof_without_a_checkpoint_prints_its_hashes_and_says_why),
        cmocka_unit_test(the_verify_report_names_the_first_bad_entry),
    };
    /* In order: the last one stops the ledger and edits its store. */
    const struct CMUnitTest live[] = {
        cmocka_unit_test(log_vkey_and_checkpoint_show_the_signed_state),
        cmocka_unit_test(log_prove_prints_a_tlog_proof_that_verifies_offline),
        cmocka_unit_test(log_consistency_proves_the_log_only_grew),
        cmocka_unit_test(an_independent_verifier_sees_the_log_only_grew),
        cmocka_unit_test(an_independent_rfc9162_verifier_accepts_the_bundle),
        cmocka_unit_test(an_exported_bundle_verifies_and_a_tampered_one_does_not),
        cmocka_unit_test(export_intoto_writes_signed_statements),
        cmocka_unit_test(log_verify_checks_the_store_without_the_daemon),
    };
    int failed = cmocka_run_group_tests(formatting, NULL, NULL);
    return failed + cmocka_run_group_tests(live, s_setup_ledger, s_teardown_ledger);
}
