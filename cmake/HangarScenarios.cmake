# Distributed under the terms of hangar's license. One file for hangar's own build and for
# the installed package (lib/cmake/hangar), so both register and build scenarios the same way.
#[=======================================================================[.rst:
HangarScenarios
---------------

Builds native scenario programs and registers scenario families as CTest tests, one test
per variant x start method x sanitizer, from the families' ``manifest.toml`` files
(``scenarios/README.md`` says what a family and its manifest are).

Another project gets these commands from hangar's CMake package:

.. code-block:: cmake

  find_package(hangar 0.1 CONFIG REQUIRED)   # CMAKE_PREFIX_PATH=<hangar's install prefix>
  enable_testing()
  hangar_add_native_scenario(held_mutex SOURCES scenarios/held-lock/held_mutex.cpp)
  hangar_add_scenario_tests(SCENARIOS scenarios)

and ``ctest -L hang`` then runs every cell under hangar, as hangar runs its own.

Commands
^^^^^^^^

.. command:: hangar_add_native_scenario

  Builds one native scenario program in the builds hangar runs it as: plain, and with
  ThreadSanitizer and with AddressSanitizer+UndefinedBehaviorSanitizer, so that
  ``hangar run --sanitizer tsan,asan`` can run it instrumented::

    hangar_add_native_scenario(<target>
                               SOURCES <source>...
                               [SANITIZERS <none|tsan|asan>...]
                               [LINK_LIBRARIES <item>...]
                               [OUTPUT_DIRECTORY <dir>])

  ``<target>``
    The name of the plain build's target and program, which is what a manifest's native
    ``entry`` names. The sanitizer builds are the targets and programs ``<target>-tsan``
    and ``<target>-asan``. The variable ``<target>_TARGETS`` is set in the caller's scope
    to every target made, for further ``target_*()`` calls.

  ``SOURCES <source>...``
    The program's sources. They can include ``start_method.hpp`` (``scenario::StartMethod``,
    which parses ``--method fork|spawn|forkserver`` and starts the child that way, and
    ``scenario::mark``) and ``contention.hpp`` (``scenario::start_child_amid`` for
    stochastic races): hangar's scenario support library, built here in the same build
    flavours and linked to each program.

  ``SANITIZERS <none|tsan|asan>...``
    The builds to make; ``none`` is the plain one. Default: ``HANGAR_SCENARIO_SANITIZERS``.

  ``LINK_LIBRARIES <item>...``
    More libraries for every build, as for ``target_link_libraries(... PRIVATE ...)``.

  ``OUTPUT_DIRECTORY <dir>``
    Where the programs go. Default: ``HANGAR_SCENARIO_BIN_DIR``. ``hangar`` looks for a
    native entry there (``--scenario-bin``).

.. command:: hangar_add_scenario_tests

  Registers the scenario families in a folder as CTest tests::

    hangar_add_scenario_tests(SCENARIOS <dir>
                              [SCENARIO_BIN <dir>]
                              [METHODS <fork|spawn|forkserver>...]
                              [SANITIZERS <none|tsan|asan>...]
                              [TIMEOUT <seconds>]
                              [LABELS <label>...]
                              [REPORT_DIR <dir>])

  One test per variant x start method x sanitizer build, named
  ``hang:<family>/<variant>:<method>[:<sanitizer>]`` and labelled ``hang``, the method, the
  family, the sanitizer (for an instrumented build) and ``LABELS``. Each runs ``hangar
  run`` on its one cell, with the fork-hazard detector in plain builds, and passes when the
  cell meets the manifest's expectation for it. Like ``gtest_discover_tests``, the list
  comes from the manifests at build time (``hangar list --ctest-file``, rerun whenever a
  manifest changes), so a new variant needs no CMake edit. Python variants have no
  sanitizer builds, and a race judged on a hang rate is not registered under a sanitizer
  (a quick test cannot decide it; ``hangar run --repeat`` can).

  ``SCENARIOS <dir>``
    Required. The folder of families: one subfolder per family, holding its
    ``manifest.toml`` and its scripts. A relative path is taken from the current source
    folder. A folder with no family, and, with the installed package, a manifest that
    hangar refuses (a family with no variant, an unknown key...) are configure errors.

  ``SCENARIO_BIN <dir>``
    Where the native entries' programs are. Default: ``HANGAR_SCENARIO_BIN_DIR``, where
    ``hangar_add_native_scenario`` puts them.

  ``METHODS <fork|spawn|forkserver>...``
    Only these start methods. Default: each variant's own (its manifest's ``methods``).

  ``SANITIZERS <none|tsan|asan>...``
    Only these builds of native variants. Default: ``HANGAR_SCENARIO_SANITIZERS``.

  ``TIMEOUT <seconds>``
    How long one run may take before it counts as a hang. Default:
    ``HANGAR_CTEST_RUN_TIMEOUT`` (6). A proven deadlock ends a run long before it.

  ``LABELS <label>...``
    Labels added to every test, for ``ctest -L``.

  ``REPORT_DIR <dir>``
    The folder each test's run writes its reports and evidence under (``results.json``,
    ``junit.xml``, ``summary.md``, ``report.html``, each run's output). Default:
    ``${CMAKE_CURRENT_BINARY_DIR}/hangar-out``.

Variables
^^^^^^^^^

``HANGAR_SCENARIO_BIN_DIR``
  Where native scenario programs are built. Default: ``${CMAKE_BINARY_DIR}/hangar-scenario-bin``.

``HANGAR_SCENARIO_SANITIZERS``
  The default builds of both commands. Default: ``none;tsan;asan``.

``HANGAR_CTEST_RUN_TIMEOUT``
  The default ``TIMEOUT``, a cache entry. Default: 6.

``HANGAR_EXECUTABLE``
  Set by the package: the installed ``hangar`` (also the imported target ``hangar::hangar``).
#]=======================================================================]
include_guard(GLOBAL)

set(HANGAR_CTEST_RUN_TIMEOUT 6 CACHE STRING "per-run limit (seconds) for the scenario tests")
if(NOT DEFINED HANGAR_SCENARIO_BIN_DIR)
  set(HANGAR_SCENARIO_BIN_DIR ${CMAKE_BINARY_DIR}/hangar-scenario-bin)
endif()
if(NOT DEFINED HANGAR_SCENARIO_SANITIZERS)
  set(HANGAR_SCENARIO_SANITIZERS none tsan asan)
endif()
# hangar's scenario support library (start_method.hpp, contention.hpp): sources, built in
# each project in each flavour. The package sets this to its installed copy.
if(NOT DEFINED HANGAR_SCENARIO_SUPPORT_DIR)
  get_filename_component(HANGAR_SCENARIO_SUPPORT_DIR ${CMAKE_CURRENT_LIST_DIR}/../scenarios/common ABSOLUTE)
endif()

# GCC (12 at least) writes the source file names of an ASan or UBSan build into the program
# as it was given them, whatever -ffile-prefix-map says. With HANGAR_SANITIZER_RELATIVE_SOURCES
# (hangar's own build sets it, so that its installed programs name neither its source nor
# its build folder), sanitizer builds are compiled through HangarRelativeCompile.cmake, which
# gives the compiler the paths under the source and build folders relative to the build folder.
function(_hangar_relative_compile target)
  if(HANGAR_SANITIZER_RELATIVE_SOURCES)
    set_property(TARGET ${target} PROPERTY CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND}
                 -DHANGAR_ROOTS=${CMAKE_SOURCE_DIR}|${CMAKE_BINARY_DIR} -P ${_HANGAR_RELATIVE_COMPILE} --)
  endif()
endfunction()
set(_HANGAR_RELATIVE_COMPILE ${CMAKE_CURRENT_LIST_DIR}/HangarRelativeCompile.cmake)

set(_HANGAR_SANITIZER_FLAGS_tsan -fsanitize=thread)
set(_HANGAR_SANITIZER_FLAGS_asan -fsanitize=address,undefined)

# Stops the configuration with a message that names the caller's file.
function(_hangar_fail command)
  string(JOIN "" text ${ARGN})
  message(FATAL_ERROR "${command} (in ${CMAKE_CURRENT_LIST_FILE}): ${text}")
endfunction()

function(_hangar_check_values command keyword allowed)
  foreach(value ${ARGN})
    if(NOT value IN_LIST allowed)
      string(JOIN ", " known ${allowed})
      _hangar_fail(${command} "${keyword} '${value}' is not one of ${known}")
    endif()
  endforeach()
endfunction()

# The support library in one flavour (none, tsan, asan): made once per project.
function(_hangar_scenario_support sanitizer out_var)
  set(name hangar_scenario_support)
  if(NOT sanitizer STREQUAL "none")
    set(name hangar_scenario_support-${sanitizer})
  endif()
  if(NOT TARGET ${name})
    find_package(Threads REQUIRED)
    add_library(${name} STATIC ${HANGAR_SCENARIO_SUPPORT_DIR}/contention.cpp
                               ${HANGAR_SCENARIO_SUPPORT_DIR}/start_method.cpp)
    target_include_directories(${name} PUBLIC ${HANGAR_SCENARIO_SUPPORT_DIR})
    target_compile_features(${name} PUBLIC cxx_std_20)
    target_link_libraries(${name} PUBLIC Threads::Threads)
    if(NOT sanitizer STREQUAL "none")
      target_compile_options(${name} PUBLIC ${_HANGAR_SANITIZER_FLAGS_${sanitizer}} -fno-omit-frame-pointer)
      target_link_options(${name} PUBLIC ${_HANGAR_SANITIZER_FLAGS_${sanitizer}})
      _hangar_relative_compile(${name})
    endif()
  endif()
  set(${out_var} ${name} PARENT_SCOPE)
endfunction()

function(hangar_add_native_scenario target)
  set(command hangar_add_native_scenario)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_DIRECTORY" "SOURCES;SANITIZERS;LINK_LIBRARIES")
  if(arg_UNPARSED_ARGUMENTS)
    _hangar_fail(${command} "unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    _hangar_fail(${command} "${target}: SOURCES <source>... is required")
  endif()
  if(NOT DEFINED arg_SANITIZERS)
    set(arg_SANITIZERS ${HANGAR_SCENARIO_SANITIZERS})
  endif()
  _hangar_check_values(${command} SANITIZERS "none;tsan;asan" ${arg_SANITIZERS})
  if(NOT arg_OUTPUT_DIRECTORY)
    set(arg_OUTPUT_DIRECTORY ${HANGAR_SCENARIO_BIN_DIR})
  endif()
  set(targets)
  foreach(san ${arg_SANITIZERS})
    set(name ${target})
    if(NOT san STREQUAL "none")
      set(name ${target}-${san})
    endif()
    _hangar_scenario_support(${san} support)
    add_executable(${name} ${arg_SOURCES})
    if(NOT san STREQUAL "none")
      _hangar_relative_compile(${name})
    endif()
    target_link_libraries(${name} PRIVATE ${support} ${arg_LINK_LIBRARIES})
    list(APPEND targets ${name})
  endforeach()
  set_target_properties(${targets} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${arg_OUTPUT_DIRECTORY})
  set_property(GLOBAL APPEND PROPERTY HANGAR_NATIVE_SCENARIO_TARGETS ${targets})
  set(${target}_TARGETS ${targets} PARENT_SCOPE)
endfunction()

function(hangar_add_scenario_tests)
  set(command hangar_add_scenario_tests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SCENARIOS;SCENARIO_BIN;TIMEOUT;REPORT_DIR"
                        "METHODS;SANITIZERS;LABELS")
  if(arg_UNPARSED_ARGUMENTS)
    _hangar_fail(${command} "unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SCENARIOS)
    _hangar_fail(${command} "SCENARIOS <dir> is required: the folder of scenario families")
  endif()
  get_filename_component(scenarios "${arg_SCENARIOS}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT IS_DIRECTORY "${scenarios}")
    _hangar_fail(${command} "SCENARIOS ${scenarios} is not a folder")
  endif()
  file(GLOB manifests CONFIGURE_DEPENDS ${scenarios}/*/manifest.toml)
  if(NOT manifests)
    _hangar_fail(${command} "SCENARIOS ${scenarios} holds no scenario family: no ${scenarios}/*/manifest.toml "
                 "(each family is a folder holding a manifest.toml, see share/hangar/scenarios/README.md)")
  endif()
  set(bin ${HANGAR_SCENARIO_BIN_DIR})
  if(arg_SCENARIO_BIN)
    get_filename_component(bin "${arg_SCENARIO_BIN}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  if(NOT DEFINED arg_SANITIZERS)
    set(arg_SANITIZERS ${HANGAR_SCENARIO_SANITIZERS})
  endif()
  _hangar_check_values(${command} METHODS "fork;spawn;forkserver" ${arg_METHODS})
  _hangar_check_values(${command} SANITIZERS "none;tsan;asan" ${arg_SANITIZERS})
  if(NOT arg_SANITIZERS)
    _hangar_fail(${command} "SANITIZERS names no build: give none, tsan or asan")
  endif()
  set(timeout ${HANGAR_CTEST_RUN_TIMEOUT})
  if(DEFINED arg_TIMEOUT)
    if(NOT arg_TIMEOUT MATCHES "^[0-9]*\\.?[0-9]+$" OR arg_TIMEOUT EQUAL 0)
      _hangar_fail(${command} "TIMEOUT '${arg_TIMEOUT}' is not a number of seconds")
    endif()
    set(timeout ${arg_TIMEOUT})
  endif()
  set(report_dir ${CMAKE_CURRENT_BINARY_DIR}/hangar-out)
  if(arg_REPORT_DIR)
    get_filename_component(report_dir "${arg_REPORT_DIR}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  endif()

  set(list_args --scenarios ${scenarios} --scenario-bin ${bin} list)
  # An installed hangar can judge the manifests now, so a broken one stops the configuration
  # with hangar's own FILE:LINE message; in hangar's own build it is not built yet, and the
  # build step below says the same.
  if(HANGAR_EXECUTABLE)
    execute_process(COMMAND ${HANGAR_EXECUTABLE} ${list_args} RESULT_VARIABLE status OUTPUT_QUIET
                    ERROR_VARIABLE problems)
    if(NOT status EQUAL 0)
      string(STRIP "${problems}" problems)
      _hangar_fail(${command} "hangar refused the scenarios in ${scenarios} (exit ${status}):\n${problems}")
    endif()
  endif()

  list(APPEND list_args --ctest-timeout ${timeout} --ctest-out ${report_dir})
  if(arg_METHODS)
    string(JOIN "," methods ${arg_METHODS})
    list(APPEND list_args --ctest-methods ${methods})
  endif()
  string(JOIN "," sanitizers ${arg_SANITIZERS})
  list(APPEND list_args --ctest-sanitizers ${sanitizers})
  if(arg_LABELS)
    string(JOIN "," labels ${arg_LABELS})
    list(APPEND list_args --ctest-labels ${labels})
  endif()

  # One tests file per call, so a project can register several folders.
  get_property(calls GLOBAL PROPERTY _HANGAR_SCENARIO_TEST_CALLS)
  math(EXPR calls "${calls} + 1")
  set_property(GLOBAL PROPERTY _HANGAR_SCENARIO_TEST_CALLS ${calls})
  set(name hangar_scenario_tests)
  if(calls GREATER 1)
    set(name hangar_scenario_tests_${calls})
  endif()
  set(tests_file ${CMAKE_CURRENT_BINARY_DIR}/${name}.cmake)
  set(depends ${manifests})
  get_target_property(built hangar::hangar ALIASED_TARGET)
  if(built)
    list(APPEND depends ${built})  # hangar's own build: the target, so it is built first
  else()
    list(APPEND depends ${HANGAR_EXECUTABLE})
  endif()
  add_custom_command(
    OUTPUT ${tests_file}
    COMMAND hangar::hangar ${list_args} --ctest-file ${tests_file}
    DEPENDS ${depends}
    COMMENT "Registering scenario tests from the manifests in ${scenarios}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${tests_file})
  # Read by ctest; until the first build has written the tests, one test says so.
  set(include_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_include.cmake)
  file(WRITE ${include_file}
       "if(EXISTS \"${tests_file}\")\n"
       "  include(\"${tests_file}\")\n"
       "else()\n"
       "  add_test(${name}_NOT_BUILT ${name}_NOT_BUILT)\n"
       "endif()\n")
  set_property(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()
