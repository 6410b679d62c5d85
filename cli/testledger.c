/* Test support: a real cairn-ledger process (testledger.h). */
#include "testledger.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "rpc.h"

const char *cli_test_ledger_endpoint(const char *dir)
{
    static char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/run/ledger-api.sock", dir);
    return ep;
}

pid_t cli_test_ledger_start(const char *dir)
{
    const char *bin = getenv("CAIRN_BIN_DIR");
    char exe[512];
    snprintf(exe, sizeof exe, "%s/cairn-ledger", bin ? bin : ".");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDERR_FILENO);
        execl(exe, exe, "--data-dir", dir, "--set", "log.level=warn", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !cli_endpoint_listening(cli_test_ledger_endpoint(dir)); i++)
        usleep(50 * 1000);
    assert_true(cli_endpoint_listening(cli_test_ledger_endpoint(dir)));
    return pid;
}

void cli_test_ledger_stop(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    int status = 0;
    waitpid(*pid, &status, 0);
    *pid = -1;
}

Cairn__V1__LedgerReply *cli_test_ledger_call(const char *dir, Cairn__V1__LedgerRequest *req)
{
    uint8_t *buf = NULL, *rbuf = NULL;
    size_t len = 0, rlen = 0;
    Cairn__V1__LedgerReply *reply = NULL;
    cairn_client_t *client = cairn_client_new(cli_test_ledger_endpoint(dir));
    assert_non_null(client);
    assert_int_equal(cairn_codec_pack(&req->base, &buf, &len), 0);
    assert_int_equal(cairn_client_call(client, buf, len, 5000, &rbuf, &rlen), 0);
    assert_int_equal(cairn_codec_ledger_reply_unpack(rbuf, rlen, &reply), 0);
    assert_int_equal(reply->status, 0);
    free(buf);
    free(rbuf);
    cairn_client_destroy(&client);
    return reply;
}
