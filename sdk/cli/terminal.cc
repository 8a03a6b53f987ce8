#include "terminal.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "context.h"

namespace parley::cli {

namespace {
termios g_saved;
}

std::string read_password(const std::string& prompt) {
  if (const char* env = std::getenv("PARLEY_PASSWORD"); env && *env) return env;
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    throw Failure(kExitUsage, "no password: set PARLEY_PASSWORD or run parley in a terminal.");
  termios old{};
  bool is_tty = tcgetattr(fd, &old) == 0;
  if (is_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  [[maybe_unused]] ssize_t w = ::write(fd, prompt.data(), prompt.size());
  std::string pw;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') pw += c;
  if (is_tty) tcsetattr(fd, TCSAFLUSH, &old);
  w = ::write(fd, "\n", 1);
  ::close(fd);
  if (pw.empty()) throw Failure(kExitUsage, "no password given.");
  return pw;
}

RawMode::RawMode() {
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved) != 0) return;
  termios raw = g_saved;
  raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | ISIG | IEXTEN);
  raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
}

RawMode::~RawMode() {
  if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
}

}  // namespace parley::cli
