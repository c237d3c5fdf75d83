# Registers one CTest test per scenario variant x start method, labelled `hang`, the
# method and the family. The list comes from the manifests themselves: after every build
# `hangar list --ctest-file` rewrites it (as gtest_discover_tests does), so adding a
# variant to a manifest needs no CMake edit.
set(HANGAR_CTEST_RUN_TIMEOUT 6 CACHE STRING "per-run limit (seconds) for the scenario tests")

function(hangar_add_scenario_tests)
  set(tests_file ${PROJECT_BINARY_DIR}/hangar_scenario_tests.cmake)
  file(GLOB manifests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/scenarios/*/manifest.toml)
  add_custom_command(
    OUTPUT ${tests_file}
    COMMAND hangar list --ctest-file ${tests_file} --ctest-timeout ${HANGAR_CTEST_RUN_TIMEOUT}
    DEPENDS hangar ${manifests}
    COMMENT "Registering scenario tests from the manifests")
  add_custom_target(hangar_scenario_tests ALL DEPENDS ${tests_file})
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES ${tests_file})
endfunction()
