# Runs a libFuzzer target from a scratch copy of its seed corpus; crash inputs land in WORKDIR.
# cmake -DFUZZER=... -DSEEDS=dir -DWORKDIR=dir -DARGS="-flag;..." -P run_fuzzer.cmake
file(REMOVE_RECURSE ${WORKDIR})
file(MAKE_DIRECTORY ${WORKDIR}/corpus)
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORKDIR}/corpus)
execute_process(COMMAND ${FUZZER} ${ARGS} -artifact_prefix=${WORKDIR}/ ${WORKDIR}/corpus
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${FUZZER} failed (${result}); the failing input is in ${WORKDIR}")
endif()
