# Kernel micro-benchmarks (issue 10): decode + verify, encode, fanout
# (share + gather + seal), TLS record sealing by size, argon2id.
#   ninja -C build parley_bench_kernel && build/bin/parley_bench_kernel
if(TARGET parley_kernel_core AND TARGET parley_auth_logic)
  add_executable(parley_bench_kernel ${CMAKE_CURRENT_LIST_DIR}/kernel_bench.cc)
  target_link_libraries(parley_bench_kernel PRIVATE
    parley_kernel_core parley_auth_logic OpenSSL::Crypto benchmark::benchmark)
endif()
