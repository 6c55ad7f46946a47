# -DIGNITE_SANITIZE=address,undefined or =thread: every target is compiled and linked
# with those sanitizers, so the proxy the integration tests spawn is the sanitized one
# (scripts/sanitize.sh builds build-asan/ and build-tsan/ this way and runs the tests).
set(IGNITE_SANITIZE "" CACHE STRING "Sanitizers for the whole build: address,undefined or thread (empty: none)")
if(IGNITE_SANITIZE)
  if(IGNITE_FUZZ)
    message(FATAL_ERROR "IGNITE_FUZZ chooses its own sanitizers; leave IGNITE_SANITIZE empty")
  endif()
  if(IGNITE_SANITIZE MATCHES "thread" AND IGNITE_SANITIZE MATCHES "address")
    message(FATAL_ERROR "IGNITE_SANITIZE: thread cannot be combined with address")
  endif()
  # Frame pointers: the reports' stacks stay readable at -O2.
  add_compile_options(-fsanitize=${IGNITE_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${IGNITE_SANITIZE})
  if(IGNITE_SANITIZE MATCHES "undefined")
    # A report must fail the run, not scroll past: undefined behaviour aborts.
    add_compile_options(-fno-sanitize-recover=all)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND IGNITE_SANITIZE MATCHES "thread")
    # GCC warns that TSan does not model std::atomic_thread_fence (used inside Asio);
    # the warning is about the tool, not about this code.
    add_compile_options(-Wno-tsan)
  endif()
endif()

# Programs linked fully static (the FROM scratch test images) cannot carry a sanitizer
# runtime: in a sanitized build they are left out of `all`, and the container tests
# that need them are not run there (scripts/sanitize.sh).
function(ignite_static_program target)
  if(IGNITE_SANITIZE)
    set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL ON)
  endif()
endfunction()
