// The CLI's commands. Each takes its own arguments (after the command word)
// and returns the exit code, or throws Failure.
#pragma once

#include <string>
#include <vector>

#include "context.h"

namespace parley::cli {

using Args = std::vector<std::string>;

int cmd_register(Context& ctx, const Args& args);
int cmd_login(Context& ctx, const Args& args);
int cmd_logout(Context& ctx, const Args& args);
int cmd_whoami(Context& ctx, const Args& args);
int cmd_rooms(Context& ctx, const Args& args);
int cmd_dm(Context& ctx, const Args& args);
int cmd_group(Context& ctx, const Args& args);
int cmd_send(Context& ctx, const Args& args);
int cmd_history(Context& ctx, const Args& args);
int cmd_read(Context& ctx, const Args& args);
int cmd_unread(Context& ctx, const Args& args);
int cmd_tail(Context& ctx, const Args& args);
int cmd_chat(Context& ctx, const Args& args);

// Prints one line to stdout (and flushes: output may be a pipe read live).
void out_line(const std::string& line);
// "--flag VALUE" from args; throws Failure(kExitUsage) when missing.
std::string flag_value(const Args& args, const std::string& flag, bool required);
uint64_t parse_u64(const std::string& s, const std::string& what);
std::string message_line(Context& ctx, const client::Message& m);

}  // namespace parley::cli
