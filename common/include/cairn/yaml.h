/* YAML documents parsed with libfyaml: the check every loader (configuration,
 * policy, notification routes) runs on a document before it reads any
 * scalar's text. */
#ifndef CAIRN_YAML_H
#define CAIRN_YAML_H

struct fy_document;

/* Looks for a scalar whose text libfyaml would get wrong: its chunks of text
 * add up to a length other than the one it reports for the scalar. libfyaml
 * 0.7.12 does this for single-quoted text with two '' escapes in a row
 * ('a''''b' reads as "a'''" instead of "a''b"), and leaks memory while it
 * does. Returns 0 if there is none, 1 with the position where the first such
 * scalar's text starts (0-based, as libfyaml counts; inside an opening
 * quote) in *line and *column, or -ENOMEM. */
int cairn_yaml_find_misread(struct fy_document *doc, int *line, int *column);

/* What the loaders say about such a scalar, after its position. */
#define CAIRN_YAML_MISREAD_HINT                                                                    \
    "the YAML library misreads this scalar (single-quoted text with two '' escapes in a row); "    \
    "write it double-quoted"

#endif
