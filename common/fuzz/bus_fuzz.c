/* Fuzz target for bus frames (cairn/bus.h) and what follows them: each input
 * is cut into ZeroMQ frames, sent over real in-process sockets, and taken
 * apart by the same calls the daemons use: cairn_bus_receive() for
 * [topic][payload] stream messages and cairn_bus_server_recv() for
 * [empty][payload] requests to a ROUTER (which answers, as a server does).
 * Every payload a call accepts is then decoded as each bus message type
 * (codec_check.c).
 *
 * Input: up to S_MAX_FRAMES frames, each a 2-byte big-endian length and that
 * many bytes; a length that runs past the end takes the rest. */
#include <czmq.h>
#include <stdint.h>
#include <stdlib.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "codec_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_FRAMES 8
#define S_RECV_TIMEOUT_MS 2000 /* in-process delivery is immediate; longer is a bug */

static zsock_t *s_pair_in, *s_pair_out; /* stream path: cairn_bus_receive */
static zsock_t *s_router, *s_dealer;    /* request path: cairn_bus_server_recv */

static void s_teardown(void)
{
    zsock_destroy(&s_pair_in);
    zsock_destroy(&s_pair_out);
    zsock_destroy(&s_dealer);
    zsock_destroy(&s_router);
}

static void s_setup(void)
{
    if (s_router)
        return;
    zsys_set_logstream(NULL);
    if (cairn_bus_bind(ZMQ_PAIR, "inproc://cairn-fuzz-stream", &s_pair_in) != 0 ||
        cairn_bus_connect(ZMQ_PAIR, "inproc://cairn-fuzz-stream", NULL, &s_pair_out) != 0 ||
        cairn_bus_bind(ZMQ_ROUTER, "inproc://cairn-fuzz-api", &s_router) != 0 ||
        cairn_bus_connect(ZMQ_DEALER, "inproc://cairn-fuzz-api", NULL, &s_dealer) != 0)
        abort();
    zsock_set_rcvtimeo(s_pair_in, S_RECV_TIMEOUT_MS);
    zsock_set_rcvtimeo(s_router, S_RECV_TIMEOUT_MS);
    zsock_set_rcvtimeo(s_dealer, S_RECV_TIMEOUT_MS);
    atexit(s_teardown);
}

/* The input as a multipart message (at least one frame). */
static zmsg_t *s_frames(const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new();
    if (!msg)
        abort();
    size_t at = 0;
    for (int n = 0; n < S_MAX_FRAMES && (at < size || n == 0); n++) {
        size_t len = 0;
        if (size - at >= 2) {
            len = ((size_t)data[at] << 8) | data[at + 1];
            at += 2;
        } else {
            at = size;
        }
        if (len > size - at)
            len = size - at;
        zmsg_addmem(msg, data + at, len);
        at += len;
    }
    return msg;
}

static void s_stream(const uint8_t *data, size_t size)
{
    zmsg_t *msg = s_frames(data, size);
    if (zmsg_send(&msg, s_pair_out) != 0)
        abort();
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    int rc = cairn_bus_receive(s_pair_in, &topic, &payload, &len);
    if (rc == 0) {
        if (!topic || !payload)
            abort();
        cairn_fuzz_decode_all(payload, len);
    } else if (rc != CAIRN_EPROTO) {
        abort(); /* the message was there: only "malformed" may come back */
    }
    free(topic);
    free(payload);
}

static void s_request(const uint8_t *data, size_t size)
{
    zmsg_t *msg = s_frames(data, size);
    if (zmsg_send(&msg, s_dealer) != 0)
        abort();
    zframe_t *peer = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    int rc = cairn_bus_server_recv(s_router, &peer, &payload, &len);
    if (rc == 0) {
        if (!peer || !payload)
            abort();
        cairn_fuzz_decode_all(payload, len);
        if (cairn_bus_server_reply(s_router, &peer, "ok", 2) != 0 || peer)
            abort();
        zmsg_t *reply = zmsg_recv(s_dealer);
        if (!reply || zmsg_size(reply) != 2 || zframe_size(zmsg_first(reply)) != 0)
            abort(); /* the reply reached the client as [empty][payload] */
        zmsg_destroy(&reply);
    } else if (rc != CAIRN_EPROTO) {
        abort();
    }
    zframe_destroy(&peer);
    free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_setup();
    s_stream(data, size);
    s_request(data, size);
    return 0;
}

const char cairn_fuzz_target_name[] = "bus frame handling and protobuf decoders";
