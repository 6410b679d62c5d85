/* The misread-scalar check of yaml.h: every scalar of a document, keys and
 * values, walked without recursion; the text of each is assembled chunk by
 * chunk with libfyaml's token iterator (which frees what it allocates) and
 * its length compared with the length libfyaml reports and would format the
 * text into. */
#include "cairn/yaml.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdbool.h>
#include <stddef.h>

/* True if fyt's chunks add up to the length libfyaml reports for it; an
 * iterator that cannot be created counts as consistent (*oom set). */
static bool s_consistent(struct fy_token *fyt, bool *oom)
{
    size_t want = fy_token_get_text_length(fyt);
    struct fy_token_iter *it = fy_token_iter_create(fyt);
    if (!it) {
        *oom = true;
        return true;
    }
    const struct fy_iter_chunk *c = NULL;
    size_t got = 0;
    int err = 0;
    while (got <= want && (c = fy_token_iter_chunk_next(it, c, &err)) != NULL)
        got += c->len;
    fy_token_iter_destroy(it);
    return err == 0 && got == want;
}

int cairn_yaml_find_misread(struct fy_document *doc, int *line, int *column)
{
    struct fy_node *root = doc ? fy_document_root(doc) : NULL;
    if (!root)
        return 0;
    struct fy_document_iterator *it = fy_document_iterator_create();
    if (!it)
        return -ENOMEM;
    int rc = 0;
    bool oom = false;
    fy_document_iterator_node_start(it, root);
    struct fy_node *n;
    while (!oom && (n = fy_document_iterator_node_next(it)) != NULL) {
        struct fy_token *t = fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
        if (!t || s_consistent(t, &oom))
            continue;
        const struct fy_mark *m = fy_token_start_mark(t);
        *line = m ? m->line : 0;
        *column = m ? m->column : 0;
        rc = 1;
        break;
    }
    if (oom || fy_document_iterator_get_error(it))
        rc = -ENOMEM;
    fy_document_iterator_destroy(it);
    return rc;
}
