/* Tests for the JSON arena: a tree parsed and freed inside a window leaves
 * the arena empty for the next one (the same memory again); a tree larger
 * than the arena spills to malloc and is still freed whole; a value kept
 * past its window retires the arena, stays readable and can be freed
 * later; cJSON outside any window and on another thread is unaffected.
 * (Under ASan, any free of arena memory reaching free() fails the test.) */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_arena.h"

static const char s_doc[] =
    "{\"a\":[1,2,{\"b\":\"text\",\"c\":null}],\"d\":{\"e\":1.5,\"f\":true}}";

static cJSON *s_parse(const char *text)
{
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    return root;
}

static const cJSON *s_get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static void a_tree_freed_in_its_window_leaves_the_arena_empty(void **state)
{
    (void)state;
    cairn_ingest_json_arena_install();
    cairn_ingest_json_arena_begin();
    cJSON *first = s_parse(s_doc);
    assert_string_equal(cJSON_GetStringValue(s_get(cJSON_GetArrayItem(s_get(first, "a"), 2), "b")),
                        "text");
    cJSON_Delete(first);
    assert_true(cairn_ingest_json_arena_end());
    cairn_ingest_json_arena_begin();
    cJSON *second = s_parse(s_doc);
    /* The arena was emptied: the same memory again. */
    assert_ptr_equal(first, second);
    cJSON_Delete(second);
    assert_true(cairn_ingest_json_arena_end());
}

static void a_tree_larger_than_the_arena_spills_to_malloc(void **state)
{
    (void)state;
    enum { N = 40000 };
    size_t cap = (size_t)N * 32 + 16, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    text[len++] = '[';
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{\"k%d\":\"v%d\"}", i ? "," : "", i, i);
    text[len++] = ']';
    text[len] = '\0';
    cairn_ingest_json_arena_begin();
    cJSON *root = s_parse(text);
    assert_int_equal(cJSON_GetArraySize(root), N);
    assert_string_equal(cJSON_GetStringValue(s_get(cJSON_GetArrayItem(root, N - 1), "k39999")),
                        "v39999");
    cJSON_Delete(root);
    assert_true(cairn_ingest_json_arena_end());
    free(text);
}

static void a_value_kept_past_its_window_retires_the_arena(void **state)
{
    (void)state;
    cairn_ingest_json_arena_begin();
    cJSON *kept = s_parse(s_doc);
    assert_false(cairn_ingest_json_arena_end());
    /* Still valid after the window, and after another window. */
    cairn_ingest_json_arena_begin();
    cJSON *other = s_parse("{\"x\":[1,2,3]}");
    assert_ptr_not_equal(other, kept);
    cJSON_Delete(other);
    assert_true(cairn_ingest_json_arena_end());
    assert_true(cJSON_IsTrue(s_get(s_get(kept, "d"), "f")));
    cJSON_Delete(kept); /* an arena free: not passed to free() */
}

static void *s_other_thread(void *arg)
{
    (void)arg;
    cJSON *root = s_parse(s_doc);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static void cjson_outside_a_window_and_on_other_threads_uses_malloc(void **state)
{
    (void)state;
    /* Outside a window: plain malloc, so free() may release a dump. */
    cJSON *root = s_parse(s_doc);
    char *text = cJSON_PrintUnformatted(root);
    assert_non_null(text);
    free(text);
    cJSON_Delete(root);
    /* Another thread while this one has a window open. */
    cairn_ingest_json_arena_begin();
    cJSON *mine = s_parse(s_doc);
    pthread_t t;
    void *out = NULL;
    assert_int_equal(pthread_create(&t, NULL, s_other_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &out), 0);
    assert_non_null(out);
    free(out);
    cJSON_Delete(mine);
    assert_true(cairn_ingest_json_arena_end());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_tree_freed_in_its_window_leaves_the_arena_empty),
        cmocka_unit_test(a_tree_larger_than_the_arena_spills_to_malloc),
        cmocka_unit_test(a_value_kept_past_its_window_retires_the_arena),
        cmocka_unit_test(cjson_outside_a_window_and_on_other_threads_uses_malloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
