# Rooms fanout (issue 6): one room, 100 members, 64-byte texts, through a real
# parleyd; prints deliveries/s and latency percentiles as one JSON line.
#   ninja -C build parley_bench_rooms_fanout && build/bin/parley_bench_rooms_fanout
if(TARGET parley_test_support AND TARGET parley_rooms_schema AND TARGET parley_auth_schema)
  find_package(GTest REQUIRED)
  add_executable(parley_bench_rooms_fanout
    ${CMAKE_CURRENT_LIST_DIR}/rooms_fanout.cc
    ${PROJECT_SOURCE_DIR}/tests/rooms/rooms_test_client.cc)
  target_include_directories(parley_bench_rooms_fanout PRIVATE ${PROJECT_SOURCE_DIR}/tests/rooms)
  target_link_libraries(parley_bench_rooms_fanout PRIVATE
    parley_test_support parley_rooms_schema parley_auth_schema GTest::gtest Threads::Threads)
  foreach(dep rooms persistence auth)
    if(TARGET ${dep})
      add_dependencies(parley_bench_rooms_fanout ${dep})
    endif()
  endforeach()
endif()
