/* The "file" receiver: appends one JSON line per notification to notify.file
 * (JSON Lines), fsync'd before delivery is reported. It was the
 * first receiver and the model for the others (Slack, webhook, e-mail):
 * format, deliver, report. The routing engine writes one line per verdict
 * or alert the first time a notification to a file receiver carries it. */
#ifndef CAIRN_NOTIFY_FILE_RECEIVER_H
#define CAIRN_NOTIFY_FILE_RECEIVER_H

#include <jansson.h>

#include "cairn/codec.h"

/* The receiver name used in outbox marks, receipts and receipt keys. */
#define CAIRN_FILE_RECEIVER_NAME "file"

typedef struct cairn_file_receiver_t cairn_file_receiver_t;

/* Opens path for appending (creating it and its directory if needed). */
int cairn_file_receiver_open(const char *path, cairn_file_receiver_t **out);
void cairn_file_receiver_destroy(cairn_file_receiver_t **self_p);

/* Formats the notification for a ledger entry holding a verdict or an alert
 * (rec is the entry's unpacked record) as one line of compact JSON, without
 * the trailing newline:
 *   {"index":7,"topic":"verdict.deployment","change":"CHG-1","kind":"verdict",
 *    "gate":"deployment","decision":"deny",
 *    "summary":"CHG-1 deployment: deny — SOD1: dana is the author of CHG-1 and cannot approve it",
 *    "reasons":[{"rule_id":"SOD1","result":"fail","message":"..."}],
 *    "time":"2026-11-25T10:00:03.000Z"}
 * Alerts carry "alert" (the kind), "severity" and "labels" instead of "gate"
 * and "decision". *line_out is malloc'd. CAIRN_EINVALID for other records. */
int cairn_file_receiver_format(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec,
                               char **line_out);

/* The same notification as a JSON object (what the line serializes). */
int cairn_file_receiver_object(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec,
                               json_t **out);

/* A JSON string for text from the bus: bytes that are not UTF-8 become '?'
 * so a bad byte never loses a notification. NULL only when out of memory. */
json_t *cairn_notify_json_string(const char *text);

/* Appends line and a newline, then fsyncs. On failure the file is cut back to
 * its previous length so a retry never leaves a torn line behind. */
int cairn_file_receiver_write(cairn_file_receiver_t *self, const char *line);

#endif
