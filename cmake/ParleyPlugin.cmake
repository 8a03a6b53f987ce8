# parley_plugin(<name> SOURCES ... [LIBS ...] [TEST])
# Builds a plugin shared object lib<name>.so into build/lib/parley/plugins
# (or lib/parley/test-plugins with TEST). Only the SDK entry points are
# exported: everything else has hidden visibility.
set(PARLEY_PLUGIN_MAP ${CMAKE_CURRENT_LIST_DIR}/../sdk/cmake/parley_plugin.map)

function(parley_plugin name)
  cmake_parse_arguments(ARG "TEST" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_TEST)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PARLEY_TEST_PLUGIN_OUTPUT_DIR})
  else()
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PARLEY_PLUGIN_OUTPUT_DIR})
    install(TARGETS ${name} LIBRARY DESTINATION lib/parley/plugins)
  endif()
  target_link_libraries(${name} PRIVATE parley::sdk ${ARG_LIBS})
  # Plugins must not resolve symbols from the host executable by accident.
  # Except in the clang fuzz build (tests/fuzz, -DPARLEY_FUZZ=ON): there the
  # sanitizer and coverage runtime lives only in the fuzz executable, which
  # loads the plugins and exports those symbols to them.
  if(NOT PARLEY_FUZZ)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  # Export exactly the SDK entry points (sdk/cmake/parley_plugin.map).
  set(map ${PARLEY_PLUGIN_MAP})
  target_link_options(${name} PRIVATE -Wl,--version-script=${map})
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()
