// HttpRouter's matching, which the `http` service relies on: exact routes
// first, then the longest prefix, 405 only from the most specific match.
#include <gtest/gtest.h>

#include "http_router.h"

namespace parley::websocket {
namespace {

std::string dispatch(const HttpRouter& r, const std::string& method, const std::string& path) {
  HttpRequest req;
  req.method = method;
  req.path = path;
  std::string got;
  r.dispatch(req, [&got](HttpResponse res) { got = std::to_string(res.status) + " " + res.body; });
  return got;
}

HttpHandler answer(const std::string& text) {
  return [text](const HttpRequest&, Respond respond) { respond({200, "text/plain", text, ""}); };
}

TEST(HttpRouterPrefix, LongestPrefixWinsOverStaticRoot) {
  HttpRouter r;
  r.add_prefix("GET", "/", answer("static"));
  r.add_prefix("", "/api/v1/", answer("api"));
  r.add("GET", "/healthz", answer("health"));
  EXPECT_EQ(dispatch(r, "GET", "/index.html"), "200 static");
  EXPECT_EQ(dispatch(r, "POST", "/api/v1/call/echo.say"), "200 api");
  EXPECT_EQ(dispatch(r, "GET", "/api/v1/me"), "200 api");
  EXPECT_EQ(dispatch(r, "GET", "/healthz"), "200 health");
  // A method the most specific route refuses is 405, not a fall-back to "/".
  EXPECT_EQ(dispatch(r, "POST", "/index.html").substr(0, 3), "405");
  EXPECT_EQ(dispatch(r, "POST", "/healthz").substr(0, 3), "405");
}

TEST(HttpRouterPrefix, NoMatchIs404) {
  HttpRouter r;
  r.add_prefix("", "/api/v1/", answer("api"));
  EXPECT_EQ(dispatch(r, "GET", "/api/v2/x").substr(0, 3), "404");
  EXPECT_EQ(dispatch(r, "GET", "/api/v1").substr(0, 3), "404");
}

}  // namespace
}  // namespace parley::websocket
