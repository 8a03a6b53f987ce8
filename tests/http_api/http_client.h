// A minimal blocking HTTP/1.1 client for the tests: one request per
// connection (the server closes after each response), poll() timeouts.
#pragma once

#include <string>
#include <vector>

namespace parley::test::http {

struct Response {
  int status = 0;  // 0: no response (error says why)
  std::string headers, body, error;
};

Response request(int port, const std::string& method, const std::string& target,
                 const std::string& body = "", const std::vector<std::string>& headers = {},
                 int timeout_ms = 10000);

// Sends `parts` one after another with `gap_ms` between them on one
// connection and returns what the server sent until it closed.
std::string raw(int port, const std::vector<std::string>& parts, int gap_ms = 0,
                int timeout_ms = 10000);

// The value of "key" in a JSON text: a string's contents (no unescaping
// beyond \" and \\) or a number/literal as written; "" when absent. The
// first occurrence counts.
std::string json_value(const std::string& json, const std::string& key, size_t from = 0);

}  // namespace parley::test::http
