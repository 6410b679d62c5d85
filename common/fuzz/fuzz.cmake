# Fuzz targets. Each target is one LLVMFuzzerTestOneInput over one parser of
# outside bytes, with a committed seed corpus.
#
# In every build a target is also linked with corpus_driver.c into a plain
# program, `<name>_corpus`, that ctest runs over the seed corpus, so gcc
# builds exercise the corpus too. With clang and -DCAIRN_FUZZ=ON the whole
# tree is compiled with coverage instrumentation, AddressSanitizer and
# UndefinedBehaviorSanitizer, and each target becomes a libFuzzer binary
# `cairn_fuzz_<name>`; scripts/fuzz builds and runs those. The list of
# targets and their corpora is written to <build>/fuzz-targets.txt.

option(CAIRN_FUZZ "Build libFuzzer targets (clang only)" OFF)
set(CAIRN_FUZZ_DRIVER ${CMAKE_CURRENT_LIST_DIR}/corpus_driver.c)
set(CAIRN_FUZZ_MANIFEST ${CMAKE_BINARY_DIR}/fuzz-targets.txt)
file(WRITE ${CAIRN_FUZZ_MANIFEST} "")

if(CAIRN_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CAIRN_FUZZ needs clang (libFuzzer): CC=clang cmake -DCAIRN_FUZZ=ON ...")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -gline-tables-only)
  add_link_options(-fsanitize=address,undefined)
endif()

# cairn_add_fuzz_target(NAME CORPUS_DIR SOURCES src... [LIBS lib...] [DEFINES def...])
function(cairn_add_fuzz_target name corpus)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS;DEFINES" ${ARGN})
  if(CAIRN_FUZZ)
    set(exe cairn_fuzz_${name})
    add_executable(${exe} ${F_SOURCES})
    target_compile_definitions(${exe} PRIVATE CAIRN_LIBFUZZER ${F_DEFINES})
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${exe} PRIVATE ${F_LIBS})
    file(APPEND ${CAIRN_FUZZ_MANIFEST} "${name} ${exe} ${corpus}\n")
  else()
    set(exe ${name}_corpus)
    add_executable(${exe} ${F_SOURCES} ${CAIRN_FUZZ_DRIVER})
    target_compile_definitions(${exe} PRIVATE ${F_DEFINES})
    target_link_libraries(${exe} PRIVATE ${F_LIBS})
    add_test(NAME ${exe} COMMAND ${exe} ${corpus})
    set_tests_properties(${exe} PROPERTIES TIMEOUT 120)
  endif()
endfunction()
