/* Signal handling for daemons: handlers only set flags the main loop reads. */
#include "cairn/signals.h"

#include <czmq.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_reload;

static void s_on_stop(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_on_hup(int sig)
{
    (void)sig;
    s_reload = 1;
}

void cairn_signals_install(void)
{
    /* czmq must not replace our handlers or interrupt zsys calls on its own. */
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = s_on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = s_on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

bool cairn_signals_stop_requested(void)
{
    return s_stop != 0;
}

bool cairn_signals_take_reload(void)
{
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}
