// Child processes for tests: spawn with captured output, wait with timeouts.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include "child.h"
#include "parley_test.h"

extern char** environ;

namespace parley::test {
namespace detail {

namespace {

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    bool overridden = false;
    for (const auto& x : extra)
      if (name_of(x) == name_of(kv)) overridden = true;
    if (!overridden) out.push_back(std::move(kv));
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

}  // namespace

bool spawn(const std::string& path, const std::vector<std::string>& args,
           const std::vector<std::string>& env, Child* out, std::string* error) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls are allowed (the test process has threads).
  std::vector<std::string> argv_s;
  argv_s.push_back(path);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = merged_environment(env);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    if (error) *error = std::string("pipe2: ") + std::strerror(errno);
    return false;
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    if (error) *error = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    if (devnull >= 0) close(devnull);
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // the parent died before prctl
    // The test process ignores SIGPIPE; the server must see the default.
    signal(SIGPIPE, SIG_DFL);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execve(argv[0], argv.data(), envp.data());
    const char msg[] = "parley_test_support: execve failed: ";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    const char* why = strerror(errno);
    ignored = write(2, why, strlen(why));
    ignored = write(2, "\n", 1);
    (void)ignored;
    _exit(127);
  }
  close(fds[1]);
  if (devnull >= 0) close(devnull);
  out->pid = pid;
  out->out_fd = fds[0];
  return true;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

bool wait_pid(pid_t pid, int timeout_ms, int* status) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      *status = 0;
      return true;  // not our child any more (already reaped): treat as gone
    }
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace detail

int run_program(const std::string& path, const std::vector<std::string>& args,
                std::string* output, int timeout_ms,
                const std::vector<std::string>& env) {
  detail::Child child;
  std::string error;
  if (!detail::spawn(path, args, env, &child, &error)) {
    if (output) *output = error;
    return -1000;
  }
  std::string captured;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{child.out_fd, POLLIN, 0};
    int n = poll(&pfd, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t r = read(child.out_fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // EOF: the child (and anything it forked) closed it
    captured.append(buf, static_cast<size_t>(r));
  }
  close(child.out_fd);
  int status = 0;
  if (timed_out) {
    kill(child.pid, SIGKILL);
    detail::wait_pid(child.pid, -1, &status);
    captured += "\n[parley_test_support: killed after " + std::to_string(timeout_ms) + " ms]\n";
    if (output) *output = captured;
    return -SIGKILL;
  }
  detail::wait_pid(child.pid, -1, &status);
  if (output) *output = captured;
  return detail::decode_status(status);
}

int ServerProcess::run_to_exit(const std::vector<std::string>& args,
                               std::string* output, int timeout_ms) {
  return run_program(parleyd_path(), args, output, timeout_ms);
}

SelfSignedCert::SelfSignedCert() {
  ok = run_program("/usr/bin/openssl",
                   {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert},
                   &output) == 0;
}

}  // namespace parley::test
