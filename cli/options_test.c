/* Tests for command-line parsing: every usage mistake is an error with a
 * message that names the problem, and configuration is built like the daemons'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "options.h"

static int s_run_nothing(const cli_args_t *args)
{
    (void)args;
    return 0;
}

static const cli_opt_t s_opts[] = {
    {"gate", "G", true, "the gate", 0},   {"env", "E", false, "the environment", 0},
    {"reject", NULL, false, "a flag", 0}, {"output", "FILE", false, "where to write", 'o'},
    {NULL, NULL, false, NULL, 0},
};

static const cli_command_t s_cmd = {
    .name = "demo",
    .positional = "CHANGE",
    .summary = "A command for tests.",
    .details = "Exit codes: none.\n",
    .opts = s_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_nothing,
};

static const cli_command_t s_sub_one = {
    .name = "demo one",
    .positional = "INDEX",
    .summary = "The first subcommand.",
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_nothing,
};

static const cli_command_t s_sub_two = {
    .name = "demo two",
    .positional = "",
    .summary = "The second subcommand.",
    .run = s_run_nothing,
};

static const cli_command_t *const s_subs[] = {&s_sub_one, &s_sub_two, NULL};

static const cli_command_t s_parent = {
    .name = "demo",
    .positional = "SUBCOMMAND",
    .summary = "A command with subcommands.",
    .details = "Exit codes: none.\n",
    .subs = s_subs,
};

static int s_parse(cli_args_t *a, char *err, size_t errlen, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    err[0] = '\0';
    return cli_parse(&s_cmd, argc, argv, a, err, errlen);
}

static void options_and_positionals_are_read_in_any_order(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 6, "--json", "CHG-1", "--gate", "build",
                             "--env=prod", "--reject"),
                     0);
    assert_true(a.json);
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "CHG-1");
    assert_string_equal(cli_opt(&a, "gate"), "build");
    assert_string_equal(cli_opt(&a, "env"), "prod");
    assert_true(cli_flag(&a, "reject"));
    assert_null(cli_opt(&a, "nonexistent"));
}

static void global_options_are_accepted_by_every_command(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 9, "--config", "c.yaml", "--data-dir=/tmp/d",
                             "--set", "bus.request_timeout=1s", "--set=log.level=debug", "X",
                             "--gate", "g"),
                     0);
    assert_string_equal(a.config_path, "c.yaml");
    assert_string_equal(a.data_dir, "/tmp/d");
    assert_int_equal(a.nsets, 2);
    assert_string_equal(a.sets[0], "bus.request_timeout=1s");
    assert_string_equal(a.sets[1], "log.level=debug");
    assert_false(a.json);
}

static void a_missing_required_option_is_named(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 1, "CHG-1"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "missing required option --gate G"));
}

static void a_missing_positional_is_named(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 2, "--gate", "build"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "missing argument"));
    assert_non_null(strstr(err, "CHANGE"));
}

static void an_extra_positional_is_rejected(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "A", "B", "--gate", "g"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "unexpected argument 'B'"));
}

static void an_unknown_option_is_rejected(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "A", "--gate", "g", "--colour"),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "unknown option '--colour'"));
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "A", "--gate", "g", "-x"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "unknown option '-x'"));
}

static void an_option_without_its_value_is_rejected(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 2, "A", "--gate"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "--gate needs a value"));
    /* The next option is not silently taken as the value. */
    assert_int_equal(s_parse(&a, err, sizeof err, 3, "A", "--gate", "--json"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "--gate needs a value"));
    assert_int_equal(s_parse(&a, err, sizeof err, 2, "A", "--gate="), CAIRN_EINVALID);
    assert_non_null(strstr(err, "non-empty"));
}

static void a_flag_given_a_value_is_rejected(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "A", "--gate", "g", "--reject=yes"),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "--reject takes no value"));
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "A", "--gate", "g", "--json=1"),
                     CAIRN_EINVALID);
}

static void set_needs_key_equals_value(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 5, "A", "--gate", "g", "--set", "oops"),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "KEY=VALUE"));
}

static void help_wins_over_missing_arguments(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 1, "--help"), 0);
    assert_true(a.help);
    assert_int_equal(s_parse(&a, err, sizeof err, 1, "-h"), 0);
    assert_true(a.help);
}

static void a_dash_is_a_positional_and_double_dash_ends_options(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 3, "-", "--gate", "g"), 0);
    assert_string_equal(a.pos[0], "-");
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "--gate", "g", "--", "--odd-name"), 0);
    assert_string_equal(a.pos[0], "--odd-name");
}

static void help_text_lists_options_and_exit_codes(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_print_command_help(&s_cmd, out);
    fclose(out);
    assert_non_null(
        strstr(text, "Usage: cairn demo CHANGE --gate G [--env E] [--reject] [-o FILE]"));
    assert_non_null(strstr(text, "  -o, --output FILE      where to write\n"));
    assert_non_null(strstr(text, "--gate G"));
    assert_non_null(strstr(text, "(required)"));
    assert_non_null(strstr(text, "--data-dir DIR"));
    assert_non_null(strstr(text, "--json"));
    assert_non_null(strstr(text, "Exit codes"));
    free(text);
}

static void usage_errors_exit_with_2(void **state)
{
    (void)state;
    assert_int_equal(cli_usage_error(&s_cmd, "bad %s", "thing"), CLI_EXIT_USAGE);
    assert_int_equal(CLI_EXIT_USAGE, 2);
}

static void data_dir_and_set_reach_the_configuration(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    cairn_config_t *cfg = NULL;
    assert_int_equal(s_parse(&a, err, sizeof err, 7, "--data-dir", "/tmp/cairn-x", "--set",
                             "bus.request_timeout=250ms", "X", "--gate", "g"),
                     0);
    assert_int_equal(cli_load_config(&a, &cfg, err, sizeof err), 0);
    assert_string_equal(cairn_config_str(cfg, "bus.ledger_api"),
                        "ipc:///tmp/cairn-x/run/ledger-api.sock");
    assert_int_equal(cairn_config_int(cfg, "bus.request_timeout"), 250);
    cairn_config_destroy(&cfg);
    assert_null(cfg);
}

static void a_bad_configuration_is_an_error_with_a_message(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    cairn_config_t *cfg = NULL;
    assert_int_equal(s_parse(&a, err, sizeof err, 5, "--set", "nosuch.key=1", "X", "--gate", "g"),
                     0);
    err[0] = '\0';
    assert_int_equal(cli_load_config(&a, &cfg, err, sizeof err), CAIRN_ECONFIG);
    assert_null(cfg);
    assert_true(strlen(err) > 0);

    assert_int_equal(
        s_parse(&a, err, sizeof err, 5, "--config", "/nonexistent/cairn.yaml", "X", "--gate", "g"),
        0);
    err[0] = '\0';
    assert_int_equal(cli_load_config(&a, &cfg, err, sizeof err), CAIRN_ECONFIG);
    assert_true(strlen(err) > 0);
}

static void wait_times_are_seconds_or_durations(void **state)
{
    (void)state;
    int64_t ms = -1;
    assert_int_equal(cli_parse_seconds("30", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(cli_parse_seconds("2.5", &ms), 0);
    assert_int_equal(ms, 2500);
    assert_int_equal(cli_parse_seconds("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(cli_parse_seconds("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(cli_parse_seconds("-1", &ms), CAIRN_EINVALID);
    assert_int_equal(cli_parse_seconds("soon", &ms), CAIRN_EINVALID);
    assert_int_equal(cli_parse_seconds("nan", &ms), CAIRN_EINVALID);
    assert_int_equal(cli_parse_seconds("", &ms), CAIRN_EINVALID);
}

static void a_one_letter_alias_stands_for_its_option(void **state)
{
    (void)state;
    cli_args_t a;
    char err[256];
    assert_int_equal(s_parse(&a, err, sizeof err, 5, "X", "--gate", "g", "-o", "out.json"), 0);
    assert_string_equal(cli_opt(&a, "output"), "out.json");
    /* "-" is a value like any other (stdout). */
    assert_int_equal(s_parse(&a, err, sizeof err, 5, "X", "--gate", "g", "-o", "-"), 0);
    assert_string_equal(cli_opt(&a, "output"), "-");
    assert_int_equal(s_parse(&a, err, sizeof err, 4, "X", "--gate", "g", "-o"), CAIRN_EINVALID);
    assert_non_null(strstr(err, "--output needs a value"));
    assert_int_equal(s_parse(&a, err, sizeof err, 5, "X", "--gate", "g", "-oout", "x"),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "unknown option '-oout'"));
}

static void subcommands_are_found_by_their_last_word(void **state)
{
    (void)state;
    assert_ptr_equal(cli_find_sub(&s_parent, "one"), &s_sub_one);
    assert_ptr_equal(cli_find_sub(&s_parent, "two"), &s_sub_two);
    assert_null(cli_find_sub(&s_parent, "demo"));
    assert_null(cli_find_sub(&s_parent, "three"));
    assert_null(cli_find_sub(&s_cmd, "one"));

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_print_command_help(&s_parent, out);
    fclose(out);
    assert_non_null(strstr(text, "Usage: cairn demo SUBCOMMAND\n"));
    assert_non_null(strstr(text, "Subcommands:\n  cairn demo one INDEX\n      The first "
                                 "subcommand.\n  cairn demo two\n"));
    free(text);
}

static void indexes_and_sizes_are_plain_decimal(void **state)
{
    (void)state;
    uint64_t v = 1;
    assert_int_equal(cli_parse_u64("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cli_parse_u64("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    const char *bad[] = {"", "-1", "+1", "01", "1x", " 1", "18446744073709551616", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cli_parse_u64(bad[i], &v), CAIRN_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_and_positionals_are_read_in_any_order),
        cmocka_unit_test(global_options_are_accepted_by_every_command),
        cmocka_unit_test(a_missing_required_option_is_named),
        cmocka_unit_test(a_missing_positional_is_named),
        cmocka_unit_test(an_extra_positional_is_rejected),
        cmocka_unit_test(an_unknown_option_is_rejected),
        cmocka_unit_test(an_option_without_its_value_is_rejected),
        cmocka_unit_test(a_flag_given_a_value_is_rejected),
        cmocka_unit_test(set_needs_key_equals_value),
        cmocka_unit_test(help_wins_over_missing_arguments),
        cmocka_unit_test(a_dash_is_a_positional_and_double_dash_ends_options),
        cmocka_unit_test(help_text_lists_options_and_exit_codes),
        cmocka_unit_test(usage_errors_exit_with_2),
        cmocka_unit_test(data_dir_and_set_reach_the_configuration),
        cmocka_unit_test(a_bad_configuration_is_an_error_with_a_message),
        cmocka_unit_test(wait_times_are_seconds_or_durations),
        cmocka_unit_test(a_one_letter_alias_stands_for_its_option),
        cmocka_unit_test(subcommands_are_found_by_their_last_word),
        cmocka_unit_test(indexes_and_sizes_are_plain_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
