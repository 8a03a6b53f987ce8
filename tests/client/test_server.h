// A parleyd with persistence, auth, rooms and receipts for the client tests,
// and unique phone numbers across parallel test processes.
#pragma once

#include <memory>
#include <string>

#include "parley_test.h"

namespace parley::test::client {

ServerOptions chat_server_options();
std::unique_ptr<ServerProcess> start_chat_server();
// "+1" + 10 digits, unique per process and call.
std::string unique_phone();

}  // namespace parley::test::client
