/* Signal handling for daemons: SIGINT/SIGTERM request a clean stop, SIGHUP a
 * reload. Handlers only set flags; the main loop polls them. */
#ifndef CAIRN_SIGNALS_H
#define CAIRN_SIGNALS_H

#include <stdbool.h>

/* Installs the handlers (and ignores SIGPIPE). Also tells czmq not to install
 * its own handlers. */
void cairn_signals_install(void);

/* True once SIGINT or SIGTERM arrived. */
bool cairn_signals_stop_requested(void);

/* True once after each SIGHUP (reading it clears it). */
bool cairn_signals_take_reload(void);

#endif
