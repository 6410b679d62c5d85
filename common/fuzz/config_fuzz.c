/* Fuzz target for the configuration loader (cairn/config.h): each input is
 * written to a temporary file and loaded over the defaults, as a daemon
 * loads --config. A load that succeeds must finalize (or refuse with a
 * message) and every option must read back; a refusal must say why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_path[64]; /* the temporary file, reused for every input */

static void s_cleanup(void)
{
    if (s_path[0])
        unlink(s_path);
}

/* Writes the input to the temporary file, creating it on first use. */
static void s_write(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(s_path, sizeof s_path, "%s/cairn-config-fuzz-XXXXXX",
                 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
        int fd = mkstemp(s_path);
        if (fd < 0)
            abort();
        close(fd);
        atexit(s_cleanup);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_write(data, size);
    cairn_config_t *config = cairn_config_new();
    if (!config)
        abort();
    char err[512] = "";
    if (cairn_config_load(config, s_path, err, sizeof err) != 0) {
        if (!err[0])
            abort();
        goto out;
    }
    err[0] = '\0';
    if (cairn_config_finalize(config, err, sizeof err) != 0) {
        if (!err[0])
            abort();
        goto out;
    }
    size_t count = 0;
    const cairn_option_t *opts = cairn_config_options(&count);
    for (size_t i = 0; i < count; i++) {
        if (opts[i].type == CAIRN_OPT_STRING) {
            if (!cairn_config_str(config, opts[i].key))
                abort();
            continue;
        }
        int64_t v = cairn_config_int(config, opts[i].key);
        if (opts[i].type != CAIRN_OPT_BOOL && (opts[i].min || opts[i].max) &&
            (v < opts[i].min || (opts[i].max && v > opts[i].max)))
            abort(); /* the loader let an out-of-range value through */
    }
out:
    cairn_config_destroy(&config);
    return 0;
}

const char cairn_fuzz_target_name[] = "configuration loader";
