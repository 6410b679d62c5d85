/* `cairn verify FILE --vkey VKEY --approvers KEYS`: besides the bundle
 * itself, checks every signed approval the bundle holds against the
 * approvers' keys, offline. KEYS is a policy file (its role directory's
 * keys) or a text file of approver vkeys, one per line. An approval event's
 * payload carries the approver, change, commit, role, decision, signed time
 * and signature, so the statement of cairn/approval.h is rebuilt from the
 * entry alone; the bundle check proves the entry is the one in the log. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/approval.h"
#include "cairn/bundle.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "pbjson.h"
#include "policy_load.h"

#define S_KEYS_MAX ((size_t)1 << 22) /* largest keys file read: 4 MiB */

struct cli_approver_keys {
    char **users;                      /* owner of each key */
    cairn_note_verifier_t **verifiers; /* the keys, named after their owner */
    size_t n;
};

void cli_approver_keys_destroy(cli_approver_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_approver_keys_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free(self->users[i]);
        cairn_note_verifier_destroy(&self->verifiers[i]);
    }
    free(self->users);
    free(self->verifiers);
    free(self);
    *self_p = NULL;
}

static int s_add(cli_approver_keys_t *k, const char *user, const char *text, char *err,
                 size_t errlen)
{
    cairn_note_verifier_t *v = NULL;
    int rc = cairn_approval_key_parse(user, text, &v, err, errlen);
    if (rc < 0)
        return rc;
    char **users = realloc(k->users, (k->n + 1) * sizeof *users);
    if (users)
        k->users = users;
    cairn_note_verifier_t **vs = realloc(k->verifiers, (k->n + 1) * sizeof *vs);
    if (vs)
        k->verifiers = vs;
    char *u = strdup(user);
    if (!users || !vs || !u) {
        free(u);
        cairn_note_verifier_destroy(&v);
        return -ENOMEM;
    }
    k->users[k->n] = u;
    k->verifiers[k->n++] = v;
    return 0;
}

/* A text file of vkeys: one per line, blank lines and '#' comments skipped. */
static int s_load_vkeys(cli_approver_keys_t *k, const char *path, char *text, char *err,
                        size_t errlen)
{
    int line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t n = strlen(l);
        while (n && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
            l[--n] = '\0';
        while (*l == ' ' || *l == '\t')
            l++;
        if (!*l || *l == '#')
            continue;
        cairn_note_verifier_t *v = NULL;
        if (cairn_note_verifier_parse(l, &v) < 0) {
            snprintf(err, errlen, "%s:%d: not an approver vkey (<name>+<key id>+<base64 key>)",
                     path, line);
            return CAIRN_EPARSE;
        }
        char user[256];
        snprintf(user, sizeof user, "%s", cairn_note_verifier_name(v));
        cairn_note_verifier_destroy(&v);
        int rc = s_add(k, user, l, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cli_approver_keys_load(const char *path, cli_approver_keys_t **out, char *err, size_t errlen)
{
    int rc;
    char *text = NULL;
    size_t len = 0;
    cairn_policy_t *p = NULL;
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cli_approver_keys_t *k = calloc(1, sizeof *k);
    if (!k)
        return -ENOMEM;
    if ((rc = cairn_read_file(path, S_KEYS_MAX, &text, &len)) < 0) {
        snprintf(err, errlen, "cannot read --approvers %s: %s", path, cairn_strerror(rc));
        goto out;
    }
    /* A policy names its kind; anything else is a list of vkeys. */
    if (strstr(text, "ReleasePolicy")) {
        if ((rc = cairn_policy_load_string(path, text, len, &errs, &p)) < 0) {
            snprintf(err, errlen, "--approvers %s is not a valid policy: %s", path,
                     errs.count ? errs.items[0] : cairn_strerror(rc));
            goto out;
        }
        for (size_t i = 0; i < p->n_approver_keys && rc == 0; i++)
            rc = s_add(k, p->approver_keys[i].user, p->approver_keys[i].text, err, errlen);
    } else {
        rc = s_load_vkeys(k, path, text, err, errlen);
    }
    if (rc == 0 && k->n == 0) {
        snprintf(err, errlen, "--approvers %s holds no approver key", path);
        rc = CAIRN_EINVALID;
    }
out:
    cairn_errlist_clear(&errs);
    cairn_policy_unref(&p);
    free(text);
    if (rc < 0) {
        cli_approver_keys_destroy(&k);
        return rc;
    }
    *out = k;
    return 0;
}

/* Checks one approval event; fills line with the finding. 1 verified, 0
 * unsigned, -1 failed. */
static int s_check(const cli_approver_keys_t *k, uint64_t index, const Cairn__V1__Event *ev,
                   char *line, size_t len)
{
    const Cairn__V1__Governance *g = ev->governance;
    const Cairn__V1__Correlation *c = ev->correlation;
    const char *change = c && c->change_id ? c->change_id : "";
    const char *commit = c && c->commit_sha ? c->commit_sha : "";
    if (!g->approval_signature || !*g->approval_signature) {
        snprintf(line, len, "approval entry %llu: %s %s %s: not signed", (unsigned long long)index,
                 g->approver, g->approval_decision, change);
        return 0;
    }
    cairn_approval_stmt_t st = {.change = change,
                                .commit = commit,
                                .role = g->approver_role,
                                .decision = g->approval_decision,
                                .approver = g->approver,
                                .signed_at = g->approval_signed_at};
    int worst = CAIRN_ENOTFOUND;
    bool any = false;
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->users[i], g->approver) != 0)
            continue;
        any = true;
        int rc = cairn_approval_verify(&st, g->approval_signature, k->verifiers[i]);
        if (rc == 0) {
            snprintf(line, len,
                     "approval entry %llu: %s %s %s at commit %.12s (%s): signature verified "
                     "with %s+%08x",
                     (unsigned long long)index, g->approver, g->approval_decision, change, commit,
                     g->approval_signed_at, g->approver,
                     cairn_note_verifier_keyid(k->verifiers[i]));
            return 1;
        }
        if (rc != CAIRN_ENOTFOUND)
            worst = rc;
    }
    const char *why = !any                      ? "no key for this approver in --approvers"
                      : worst == CAIRN_ENOTFOUND ? "signed with a key that is not the approver's"
                      : worst == CAIRN_EINTEGRITY
                          ? "the signature does not match the recorded approval"
                          : "the signed approval is malformed";
    snprintf(line, len, "approval entry %llu: %s %s %s at commit %.12s: FAILED: %s (key %s)",
             (unsigned long long)index, g->approver, g->approval_decision, change, commit, why,
             g->approval_key && *g->approval_key ? g->approval_key : "unnamed");
    return -1;
}

int cli_verify_approvals(const char *json, size_t len, const cli_approver_keys_t *keys,
                         json_t **findings_out, size_t *verified_out, size_t *failed_out,
                         size_t *unsigned_out)
{
    json_error_t jerr;
    size_t verified = 0, failed = 0, unsigned_n = 0;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    json_t *findings = json_array();
    if (!findings) {
        json_decref(doc);
        return -ENOMEM;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(doc, "entries"), i, entry)
    {
        const char *b64 = json_string_value(json_object_get(entry, "payload"));
        json_t *jidx = json_object_get(entry, "index");
        if (!b64 || !json_is_integer(jidx))
            continue; /* the bundle check reports malformed entries */
        size_t blen = strlen(b64), n = 0;
        uint8_t *raw = malloc(blen + 1);
        Cairn__V1__Record *rec = NULL;
        if (!raw) {
            json_decref(findings);
            json_decref(doc);
            return -ENOMEM;
        }
        if (sodium_base642bin(raw, blen + 1, b64, blen, NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            cairn_codec_record_unpack(raw, n, &rec) == 0 &&
            rec->body_case == CAIRN__V1__RECORD__BODY_EVENT && rec->event->governance &&
            rec->event->governance->approver && *rec->event->governance->approver &&
            rec->event->governance->approval_decision &&
            (strcmp(rec->event->governance->approval_decision, "granted") == 0 ||
             strcmp(rec->event->governance->approval_decision, "rejected") == 0)) {
            char line[1024];
            int r = s_check(keys, (uint64_t)json_integer_value(jidx), rec->event, line,
                            sizeof line);
            verified += r > 0;
            failed += r < 0;
            unsigned_n += r == 0;
            json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "index", json_integer_value(jidx),
                                  "approver", rec->event->governance->approver, "result",
                                  r > 0 ? "verified" : r < 0 ? "failed" : "unsigned", "message",
                                  line);
            if (!o || json_array_append_new(findings, o) < 0) {
                CAIRN_CODEC_FREE(&rec);
                free(raw);
                json_decref(findings);
                json_decref(doc);
                return -ENOMEM;
            }
        }
        CAIRN_CODEC_FREE(&rec);
        free(raw);
    }
    json_decref(doc);
    *findings_out = findings;
    *verified_out = verified;
    *failed_out = failed;
    *unsigned_out = unsigned_n;
    return 0;
}

int cli_verify_bundle_approvals(FILE *out, FILE *err, const char *json, size_t len,
                                const cairn_note_verifier_t *verifier,
                                const cli_approver_keys_t *keys, bool as_json)
{
    cairn_bundle_report_t *report = NULL;
    json_t *findings = NULL, *obj = NULL;
    size_t verified = 0, failed = 0, unsigned_n = 0;
    int rc = cairn_bundle_verify(json, len, verifier, &report);
    if (rc == 0)
        rc = cli_verify_approvals(json, len, keys, &findings, &verified, &failed, &unsigned_n);
    if (rc < 0) {
        fprintf(err, "cairn verify: cannot verify: %s\n", cairn_strerror(rc));
        cairn_bundle_report_destroy(&report);
        return CLI_EXIT_DENIED;
    }
    int code = cli_verify_exit(report) == CLI_EXIT_OK && failed == 0 ? CLI_EXIT_OK
                                                                      : CLI_EXIT_DENIED;
    if (as_json) {
        obj = cli_verify_json(report);
        json_t *ap = json_pack("{s:I, s:I, s:I, s:O}", "verified", (json_int_t)verified, "failed",
                               (json_int_t)failed, "unsigned", (json_int_t)unsigned_n, "findings",
                               findings);
        if (!obj || !ap || json_object_set_new(obj, "approvals", ap) < 0 ||
            json_object_set_new(obj, "ok", json_boolean(code == CLI_EXIT_OK)) < 0 ||
            cli_json_print(obj, out) < 0)
            code = CLI_EXIT_DENIED;
    } else {
        cli_verify_render(out, report, verifier);
        size_t i;
        json_t *f;
        json_array_foreach(findings, i, f)
        {
            fprintf(out, "%s\n", json_string_value(json_object_get(f, "message")));
        }
        fprintf(out, "%s: approvals: %zu signature%s verified, %zu failed, %zu unsigned\n",
                failed ? "FAILED" : "OK", verified, verified == 1 ? "" : "s", failed, unsigned_n);
    }
    json_decref(obj);
    json_decref(findings);
    cairn_bundle_report_destroy(&report);
    return code;
}
