/* `cairn ingest rejected`: the requests ingest refused, newest last, from
 * the index it appends under {cairn.data_dir}/ingest/rejected
 * (docs/events.md, "Rejected input"). Reads the file directly, so it works
 * while ingest is down — which is often when one wants to know why senders
 * were refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cmd_ingest.h"
#include "pbjson.h"

/* Default number of rejections shown. */
#define S_DEFAULT_LIMIT 20
/* Longest index line read whole; longer ones are skipped. */
#define S_LINE_MAX (1024 * 1024)

/* The directory part of path ("." when none), into dir. */
static void s_dirname(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* Parses one kept line into an item (NULL when it is not a JSON object). */
static json_t *s_item(const char *line, size_t len, const char *dir)
{
    json_t *item = json_loadb(line, len, 0, NULL);
    if (!json_is_object(item)) {
        json_decref(item);
        return NULL;
    }
    const char *file = json_string_value(json_object_get(item, "file"));
    if (file && *file && !strchr(file, '/')) {
        size_t n = strlen(dir) + strlen(file) + 2;
        char *full = malloc(n);
        if (full) {
            snprintf(full, n, "%s/%s", dir, file);
            json_object_set_new(item, "file_path", json_string(full));
            free(full);
        }
    } else {
        json_object_set_new(item, "file_path", json_null());
    }
    return item;
}

int cli_ingest_rejected_read(const char *path, size_t limit, json_t **out)
{
    char dir[4096];
    char **ring = NULL;
    size_t *ring_len = NULL;
    size_t cap = limit, total = 0, skipped = 0, n_ring = 0, head = 0;
    char *line = NULL;
    size_t line_cap = 0;
    json_t *list = json_array(), *result = NULL;
    int rc = 0;
    FILE *f = fopen(path, "r");
    if (!list) {
        rc = -ENOMEM;
        goto out;
    }
    s_dirname(path, dir, sizeof dir);
    if (!f) {
        if (errno != ENOENT) {
            rc = -errno;
            goto out;
        }
        goto done;
    }
    /* Only the last `limit` lines are kept while reading: the index may be
     * long. With no limit every line is kept (grown as needed). */
    for (;;) {
        ssize_t got = getline(&line, &line_cap, f);
        if (got < 0)
            break;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0)
            continue;
        if (got > S_LINE_MAX) {
            skipped++;
            continue;
        }
        total++;
        if (limit == 0 && n_ring == cap) {
            size_t grown_cap = cap ? cap * 2 : 64;
            char **g1 = realloc(ring, grown_cap * sizeof *g1);
            if (g1)
                ring = g1;
            size_t *g2 = g1 ? realloc(ring_len, grown_cap * sizeof *g2) : NULL;
            if (!g1 || !g2) {
                rc = -ENOMEM;
                goto out;
            }
            ring_len = g2;
            memset(ring + cap, 0, (grown_cap - cap) * sizeof *ring);
            cap = grown_cap;
        } else if (!ring) {
            ring = calloc(cap, sizeof *ring);
            ring_len = calloc(cap, sizeof *ring_len);
            if (!ring || !ring_len) {
                rc = -ENOMEM;
                goto out;
            }
        }
        size_t slot = limit == 0 ? n_ring : (head + n_ring) % cap;
        if (limit != 0 && n_ring == cap) {
            slot = head;
            head = (head + 1) % cap;
            free(ring[slot]);
        } else {
            n_ring++;
        }
        ring[slot] = strdup(line);
        ring_len[slot] = (size_t)got;
        if (!ring[slot]) {
            rc = -ENOMEM;
            goto out;
        }
    }
    if (ferror(f)) {
        rc = -EIO;
        goto out;
    }
    for (size_t i = 0; i < n_ring; i++) {
        size_t slot = limit == 0 ? i : (head + i) % cap;
        json_t *item = s_item(ring[slot], ring_len[slot], dir);
        if (item)
            json_array_append_new(list, item);
        else
            skipped++;
    }
done:
    result = json_pack("{s:s,s:I,s:I,s:I,s:O}", "index", path, "total", (json_int_t)total, "shown",
                       (json_int_t)json_array_size(list), "skipped", (json_int_t)skipped,
                       "rejected", list);
    if (!result)
        rc = -ENOMEM;
out:
    if (ring)
        for (size_t i = 0; i < cap; i++)
            free(ring[i]);
    free(ring);
    free(ring_len);
    free(line);
    if (f)
        fclose(f);
    json_decref(list);
    if (rc < 0) {
        json_decref(result);
        return rc;
    }
    *out = result;
    return 0;
}

static const char *s_text(const json_t *item, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(item, key));
    return v && *v ? v : fallback;
}

void cli_ingest_rejected_render(FILE *out, const json_t *result)
{
    const json_t *list = json_object_get(result, "rejected");
    json_int_t total = json_integer_value(json_object_get(result, "total"));
    json_int_t skipped = json_integer_value(json_object_get(result, "skipped"));
    const char *index = s_text(result, "index", "");
    if (json_array_size(list) == 0) {
        fprintf(out, "no rejected requests recorded (%s)\n", index);
        return;
    }
    fprintf(out, "%-24s  %-6s  %-11s  %-42s  %s\n", "TIME", "STATUS", "SOURCE", "FILE", "REASON");
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        fprintf(out, "%-24s  %-6lld  %-11s  %-42s  %s\n", s_text(item, "time", "-"),
                (long long)json_integer_value(json_object_get(item, "status")),
                s_text(item, "source", "-"), s_text(item, "file", "-"),
                s_text(item, "reason", "-"));
    }
    fprintf(out, "%zu of %lld rejected requests shown (newest last); index %s", i, (long long)total,
            index);
    if (skipped)
        fprintf(out, "; %lld unreadable lines skipped", (long long)skipped);
    fprintf(out, "\nKept bodies are in the same directory as the index.\n");
}

static int s_run_rejected(const cli_args_t *args)
{
    char err[512], path[4096];
    cairn_config_t *cfg = NULL;
    json_t *result = NULL;
    uint64_t limit = S_DEFAULT_LIMIT;
    int code = CLI_EXIT_DENIED;
    const char *limit_text = cli_opt(args, "limit");
    if (limit_text && cli_parse_u64(limit_text, &limit) < 0)
        return cli_usage_error(args->cmd, "--limit needs a number (0 for all), got '%s'",
                               limit_text);
    if (cli_load_config(args, &cfg, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);
    snprintf(path, sizeof path, "%s/ingest/rejected/index.jsonl",
             cairn_config_str(cfg, "cairn.data_dir"));
    int rc = cli_ingest_rejected_read(path, (size_t)limit, &result);
    if (rc < 0) {
        fprintf(stderr, "cairn ingest rejected: cannot read %s: %s\n", path, cairn_strerror(rc));
        goto out;
    }
    if (args->json)
        cli_json_print(result, stdout);
    else
        cli_ingest_rejected_render(stdout, result);
    code = CLI_EXIT_OK;
out:
    json_decref(result);
    cairn_config_destroy(&cfg);
    return code;
}

static const cli_opt_t s_rejected_opts[] = {
    {"limit", "N", false, "show the latest N rejections (default 20; 0 for all)", 0},
    {NULL, NULL, false, NULL, 0},
};

static const cli_command_t s_rejected = {
    .name = "ingest rejected",
    .positional = "",
    .summary = "List the requests ingest rejected, newest last (reads the data directory).",
    .details =
        "Reads {cairn.data_dir}/ingest/rejected/index.jsonl, which cairn-ingest appends one\n"
        "line to for every 400, 401, 404 (unknown webhook source), 413, 415 and 422 it\n"
        "answers. No daemon is needed.\n"
        "Output: one line per rejection — time, HTTP status, source, the kept body's file\n"
        "name (\"-\" when the body was not kept) and the reason the sender was given — then\n"
        "how many of how many are shown.\n"
        "With --json: {index, total, shown, skipped, rejected: [{time, time_ms, status,\n"
        "source, path, reason, bytes, sha256, file, file_path}]}.\n\n"
        "Exit codes: 0 listed (also when nothing was rejected), 1 the index cannot be read,\n"
        "2 usage or configuration error.\n",
    .opts = s_rejected_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run_rejected,
};

static const cli_command_t *const s_subs[] = {&s_rejected, NULL};

const cli_command_t cli_cmd_ingest = {
    .name = "ingest",
    .positional = "SUBCOMMAND",
    .summary = "Inspect ingest's local state: rejected requests.",
    .details = "Exit codes: 0 success, 1 a file cannot be read, 2 usage error.\n",
    .min_pos = 0,
    .max_pos = 0,
    .run = NULL,
    .subs = s_subs,
};
