// parley — the command-line client. Usage: parley --help.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>

#include "commands.h"

namespace {

const char* kUsage = R"(usage: parley [--server HOST:PORT] [--insecure | --ca FILE] [--json] COMMAND

commands:
  register --phone P --name NAME   create an account (and log in)
  login --phone P                  log in; the session is saved for later commands
  logout                           end the session
  whoami                           show the logged-in user
  rooms                            list your rooms
  dm PHONE                         open the direct room with a user
  group NAME PHONE...              create a group room
  send ROOM TEXT                   send a message
  history ROOM [--before SEQ] [--after SEQ] [--limit N]
  read ROOM [SEQ]                  mark a room read (up to SEQ, default all)
  unread                           unread counts per room
  tail                             print every event live until Ctrl-C
  chat ROOM                        interactive chat in one room

ROOM is a room id (or a unique prefix), a group name, or +PHONE for the
direct room with that user. The password comes from PARLEY_PASSWORD or is
prompted. The session lives in $XDG_CONFIG_HOME/parley/ (or ~/.config/parley/).
The default server is 127.0.0.1:7443; its development certificate needs
--ca data/dev-cert.pem (or --insecure).
)";

using Command = int (*)(parley::cli::Context&, const parley::cli::Args&);

}  // namespace

int main(int argc, char** argv) {
  using namespace parley::cli;
  std::signal(SIGPIPE, SIG_IGN);
  const std::map<std::string, Command> commands = {
      {"register", cmd_register}, {"login", cmd_login},   {"logout", cmd_logout},
      {"whoami", cmd_whoami},     {"rooms", cmd_rooms},   {"dm", cmd_dm},
      {"group", cmd_group},       {"send", cmd_send},     {"history", cmd_history},
      {"read", cmd_read},         {"unread", cmd_unread}, {"tail", cmd_tail},
      {"chat", cmd_chat}};
  Globals g;
  int i = 1;
  try {
    for (; i < argc && argv[i][0] == '-'; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (a == "--json") {
        g.json = true;
      } else if (a == "--insecure") {
        g.insecure = true;
      } else if ((a == "--server" || a == "--ca") && i + 1 < argc) {
        (a == "--server" ? g.server : g.ca_file) = argv[++i];
        if (a == "--server") g.server_given = true;
      } else {
        throw Failure(kExitUsage, "unknown option '" + a + "' (see parley --help)");
      }
    }
    if (g.insecure && !g.ca_file.empty())
      throw Failure(kExitUsage, "--insecure and --ca exclude each other");
    if (i >= argc) {
      std::fputs(kUsage, stderr);
      return kExitUsage;
    }
    auto it = commands.find(argv[i]);
    if (it == commands.end())
      throw Failure(kExitUsage, std::string("unknown command '") + argv[i] + "' (see parley --help)");
    Args args(argv + i + 1, argv + argc);
    Context ctx(g);
    return it->second(ctx, args);
  } catch (const Failure& f) {
    std::fprintf(stderr, "parley: %s\n", f.what());
    return f.code;
  }
}
