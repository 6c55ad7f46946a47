cmake_minimum_required(VERSION 3.25)
# Fails the build when a library includes what its layer must not (DESIGN.md, "Folders"):
#   routing/, coldstart/, common/: no Beast and nothing from proxy/, admin/, app/, cli/;
#   routing/, common/: no Asio either (they are pure);
#   cli/: no server library (proxy/, coldstart/, admin/, app/, routing/, prometheus-cpp);
#   proxy/: no prometheus-cpp (the data plane counts into plain memory; metrics/ renders);
#   cluster/: only routing/, coldstart/ and common/ (and Beast) among the project's
#   libraries; none of those includes cluster/ (its pod provider plugs into coldstart's
#   interface, not the other way round).
# Run as `cmake -DSOURCE_DIR=… -P check_layering.cmake`; the build runs it every time.
set(rules
  "routing|boost/beast|boost/asio|\"proxy/|\"admin/|\"app/|\"cli/|\"coldstart/|\"cluster/"
  "common|boost/beast|boost/asio|\"proxy/|\"admin/|\"app/|\"cli/|\"coldstart/|\"routing/|\"cluster/"
  "coldstart|boost/beast|\"proxy/|\"admin/|\"app/|\"cli/|\"routing/|\"cluster/"
  "cli|\"proxy/|\"admin/|\"app/|\"coldstart/|\"routing/|prometheus/"
  "proxy|prometheus/"
  "cluster|\"proxy/|\"admin/|\"app/|\"cli/")
# The files that exist to compile a library apart from the rest.
set(exempt common/asio_impl.cpp common/beast_impl.cpp)
set(failures "")
foreach(rule IN LISTS rules)
  string(REPLACE "|" ";" parts "${rule}")
  list(POP_FRONT parts folder)
  file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/${folder}/*.hpp ${SOURCE_DIR}/${folder}/*.cpp)
  foreach(f IN LISTS files)
    if(f IN_LIST exempt)
      continue()
    endif()
    file(STRINGS ${SOURCE_DIR}/${f} includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      foreach(forbidden IN LISTS parts)
        string(FIND "${line}" "${forbidden}" at)
        if(NOT at EQUAL -1)
          string(APPEND failures "\n  ${f}: ${line}   (${folder}/ must not include ${forbidden})")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()
if(failures)
  message(FATAL_ERROR "layering check failed:${failures}")
endif()
