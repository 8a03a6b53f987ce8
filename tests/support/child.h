// Internal to parley_test_support: spawning a child process whose stdout and
// stderr go to one pipe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace parley::test::detail {

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // read end: the child's stdout + stderr (O_CLOEXEC)
};

// fork/exec `path` with argv = path + args and the current environment plus
// `env` ("NAME=value", overriding). stdin is /dev/null. The child is killed
// when the forking thread exits (PR_SET_PDEATHSIG), so a crashed test never
// leaves a server behind. False and *error when fork/pipe fail; an exec
// failure shows up as exit code 127 with a message on the pipe.
bool spawn(const std::string& path, const std::vector<std::string>& args,
           const std::vector<std::string>& env, Child* out, std::string* error);

// waitpid status to "exit code, or -signal".
int decode_status(int status);

// waitpid(pid) with polling until timeout_ms (< 0: forever). True and
// *status (raw) when it exited.
bool wait_pid(pid_t pid, int timeout_ms, int* status);

}  // namespace parley::test::detail
