# parley_flatbuffers(TARGET <name> SCHEMAS a.fbs b.fbs)
# Compiles schemas with flatc into ${CMAKE_BINARY_DIR}/generated/parley/ and
# makes an INTERFACE target whose include path finds <parley/xxx_generated.h>.
# Also emits binary schemas (.bfbs) beside the generated headers, for tools that
# convert JSON at run time.
set(PARLEY_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)

function(parley_flatbuffers)
  cmake_parse_arguments(ARG "" "TARGET" "SCHEMAS" ${ARGN})
  set(out_dir ${PARLEY_GENERATED_DIR}/parley)
  set(outputs)
  foreach(schema ${ARG_SCHEMAS})
    get_filename_component(abs ${schema} ABSOLUTE)
    get_filename_component(stem ${schema} NAME_WE)
    set(header ${out_dir}/${stem}_generated.h)
    set(bfbs ${out_dir}/${stem}.bfbs)
    add_custom_command(
      OUTPUT ${header} ${bfbs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${FLATC} --cpp --scoped-enums -o ${out_dir} ${abs}
      COMMAND ${FLATC} --binary --schema --bfbs-comments --bfbs-builtins -o ${out_dir} ${abs}
      DEPENDS ${abs} ${FLATC}
      COMMENT "flatc ${stem}.fbs"
      VERBATIM)
    list(APPEND outputs ${header} ${bfbs})
  endforeach()
  add_custom_target(${ARG_TARGET}_gen DEPENDS ${outputs})
  add_library(${ARG_TARGET} INTERFACE)
  add_dependencies(${ARG_TARGET} ${ARG_TARGET}_gen)
  target_include_directories(${ARG_TARGET} INTERFACE ${PARLEY_GENERATED_DIR})
  target_link_libraries(${ARG_TARGET} INTERFACE flatbuffers::flatbuffers)
endfunction()
