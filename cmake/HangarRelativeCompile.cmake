# A compiler launcher for hangar's own sanitizer builds (HANGAR_SANITIZER_RELATIVE_SOURCES in
# HangarScenarios.cmake): runs the compile command given after `--` with every path under
# HANGAR_ROOTS (folders separated by |) made relative to the build folder, where the command
# runs. GCC writes ASan's and UBSan's source file names into the program as it was given
# them, ignoring -ffile-prefix-map; given relative names, an installed program names neither
# the source nor the build folder.
#   cmake -DHANGAR_ROOTS=SRC|BUILD -P HangarRelativeCompile.cmake -- COMPILER ARGS...
string(REPLACE "|" ";" roots "${HANGAR_ROOTS}")
set(command)
set(started OFF)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last})
  set(arg "${CMAKE_ARGV${i}}")
  if(NOT started)
    if(arg STREQUAL "--")
      set(started ON)
    endif()
    continue()
  endif()
  set(flag "")
  set(path "${arg}")
  if(arg MATCHES "^-I(/.*)$")
    set(flag "-I")
    set(path "${CMAKE_MATCH_1}")
  endif()
  foreach(root ${roots})
    string(FIND "${path}/" "${root}/" at)
    if(at EQUAL 0)
      file(RELATIVE_PATH path "${CMAKE_CURRENT_BINARY_DIR}" "${path}")
      break()
    endif()
  endforeach()
  list(APPEND command "${flag}${path}")
endforeach()
execute_process(COMMAND ${command} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "compiler exited ${status}")
endif()
