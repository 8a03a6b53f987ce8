// build/bin/parley as a process against a real parleyd: every command in
// human and --json output, tail and chat, the saved session, and the error
// paths (unreachable server, untrusted certificate, not logged in, expired
// session, refused requests) with their exit codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_server.h"

namespace parley::test::client {
namespace {

using namespace std::chrono_literals;

std::string parley_path() { return build_dir() + "/bin/parley"; }

struct CliRun {
  int rc = -1;
  std::string out;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

// Every line one JSON object.
void expect_json_lines(const std::string& out, size_t at_least = 1) {
  auto lines = lines_of(out);
  EXPECT_GE(lines.size(), at_least) << out;
  for (const auto& l : lines) {
    EXPECT_EQ(l.front(), '{') << l;
    EXPECT_EQ(l.back(), '}') << l;
  }
}

// One CLI user: a HOME/XDG_CONFIG_HOME of their own.
class User {
 public:
  User(ServerProcess& server, std::string name)
      : server_(server), name_(std::move(name)), phone_(unique_phone()), home_("parley-cli") {}

  CliRun run(std::vector<std::string> args, bool with_server = true, bool with_ca = true) const {
    std::vector<std::string> full;
    if (with_server) full = {"--server", "127.0.0.1:" + std::to_string(server_.port())};
    if (with_ca) {
      full.push_back("--ca");
      full.push_back(server_.data_dir() + "/dev-cert.pem");
    }
    full.insert(full.end(), args.begin(), args.end());
    CliRun r;
    r.rc = run_program(parley_path(), full, &r.out, 20000, env());
    return r;
  }
  std::vector<std::string> env() const {
    return {"HOME=" + home_.path(), "XDG_CONFIG_HOME=" + home_.path() + "/cfg",
            "PARLEY_PASSWORD=correct horse battery"};
  }
  std::string session_path() const { return home_.path() + "/cfg/parley/session.json"; }
  const std::string& phone() const { return phone_; }
  const std::string& name() const { return name_; }

  void register_now() const {
    CliRun r = run({"register", "--phone", phone_, "--name", name_});
    ASSERT_EQ(r.rc, 0) << r.out;
  }

 private:
  ServerProcess& server_;
  std::string name_, phone_;
  TempDir home_;
};

// A parley process running in the background (tail, chat), output to a file.
class Background {
 public:
  Background(const User& user, ServerProcess& server, std::vector<std::string> args,
             const std::string& stdin_text = "")
      : dir_("parley-cli-bg") {
    out_path_ = dir_.path() + "/out";
    std::string in_path = dir_.path() + "/in";
    write_file(in_path, stdin_text);
    std::vector<std::string> argv_s = {parley_path(), "--server",
                                       "127.0.0.1:" + std::to_string(server.port()), "--ca",
                                       server.data_dir() + "/dev-cert.pem"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    auto env = user.env();
    pid_ = fork();
    if (pid_ == 0) {
      int in = open(in_path.c_str(), O_RDONLY);
      int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(in, 0);
      dup2(out, 1);
      dup2(out, 2);
      for (auto& e : env) putenv(e.data());
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string output() const { return read_file(out_path_).value_or(""); }
  bool wait_output(const std::string& needle, std::chrono::milliseconds timeout = 10s) const {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (output().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  // Signals and waits; the exit code (or -1).
  int stop(int sig, std::chrono::milliseconds timeout = 10s) {
    if (sig) kill(pid_, sig);
    auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

 private:
  TempDir dir_;
  std::string out_path_;
  pid_t pid_ = -1;
};

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start_chat_server();
    ASSERT_TRUE(server_);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CliTest, AccountCommandsInBothModesAndTheSavedSession) {
  User alice(*server_, "Alice");
  CliRun r = alice.run({"register", "--phone", alice.phone(), "--name", "Alice"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Registered")) << r.out;
  struct stat st {};
  ASSERT_EQ(stat(alice.session_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(contains(read_file(alice.session_path()).value_or(""), "refresh_token"));

  r = alice.run({"whoami"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "NAME") && contains(r.out, alice.phone())) << r.out;
  r = alice.run({"--json", "whoami"});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  EXPECT_TRUE(contains(r.out, "\"phone\":\"" + alice.phone() + "\"")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"display_name\":\"Alice\"")) << r.out;

  // Later commands resume the saved session without --server, and trust the
  // certificate the way the session was created (--ca).
  r = alice.run({"whoami"}, /*with_server=*/false);
  EXPECT_EQ(r.rc, 0) << r.out;
  r = alice.run({"whoami"}, /*with_server=*/false, /*with_ca=*/false);
  EXPECT_EQ(r.rc, 0) << r.out;

  r = alice.run({"logout"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Logged out")) << r.out;
  EXPECT_FALSE(read_file(alice.session_path()).has_value());
  r = alice.run({"whoami"});
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_TRUE(contains(r.out, "not logged in")) << r.out;

  r = alice.run({"login", "--phone", alice.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Logged in as Alice")) << r.out;
  r = alice.run({"--json", "logout"});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  r = alice.run({"--json", "login", "--phone", alice.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  EXPECT_TRUE(contains(r.out, "\"user_id\"")) << r.out;
  EXPECT_FALSE(contains(r.out, "\"token\"")) << "tokens stay in the session file";
}

TEST_F(CliTest, RoomAndMessageCommandsInBothModes) {
  User alice(*server_, "Alice"), bob(*server_, "Bob"), carol(*server_, "Carol");
  alice.register_now();
  bob.register_now();
  carol.register_now();

  CliRun r = alice.run({"dm", bob.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Direct room with Bob")) << r.out;
  r = alice.run({"--json", "dm", bob.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  const size_t at = r.out.find("\"room_id\":\"");
  ASSERT_NE(at, std::string::npos);
  const std::string room = r.out.substr(at + 11, 36);

  r = alice.run({"send", room, "hello", "bob"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Sent #1")) << r.out;
  r = bob.run({"--json", "send", "+" + alice.phone().substr(1), "hi alice"});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  EXPECT_TRUE(contains(r.out, "\"seq\":2") && contains(r.out, "\"text\":\"hi alice\"")) << r.out;
  for (int i = 3; i <= 5; ++i) ASSERT_EQ(alice.run({"send", room, "m" + std::to_string(i)}).rc, 0);

  r = bob.run({"history", room});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "#1") && contains(r.out, "hello bob") && contains(r.out, "you: hi alice"))
      << r.out;
  r = bob.run({"--json", "history", room, "--after", "1", "--limit", "2"});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out, 2);
  EXPECT_EQ(lines_of(r.out).size(), 2u) << r.out;
  EXPECT_TRUE(contains(r.out, "\"seq\":2") && contains(r.out, "\"seq\":3")) << r.out;
  r = bob.run({"--json", "history", room, "--before", "3"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(lines_of(r.out).size(), 2u) << r.out;

  r = bob.run({"unread"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "UNREAD") && contains(r.out, "3 unread in total")) << r.out;
  r = bob.run({"--json", "unread"});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  // Bob's own message (#2) counts as read.
  EXPECT_TRUE(contains(r.out, "\"unread\":3")) << r.out;

  r = bob.run({"read", room, "3"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "read up to #3")) << r.out;
  r = bob.run({"--json", "unread"});
  EXPECT_TRUE(contains(r.out, "\"unread\":2")) << r.out;
  r = bob.run({"--json", "read", room});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  EXPECT_TRUE(contains(r.out, "\"seq\":5")) << r.out;

  r = alice.run({"group", "Team", bob.phone(), carol.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Group 'Team' with 3 members")) << r.out;
  r = alice.run({"--json", "group", "Team2", bob.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out);
  EXPECT_TRUE(contains(r.out, "\"kind\":\"group\"")) << r.out;
  r = carol.run({"send", "Team", "hi team"});
  ASSERT_EQ(r.rc, 0) << r.out;

  r = alice.run({"rooms"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "ROOM") && contains(r.out, "Team") && contains(r.out, "@Bob")) << r.out;
  r = alice.run({"--json", "rooms"});
  ASSERT_EQ(r.rc, 0) << r.out;
  expect_json_lines(r.out, 3);
  EXPECT_EQ(lines_of(r.out).size(), 3u) << r.out;
}

TEST_F(CliTest, TailFollowsEventsUntilInterrupted) {
  User alice(*server_, "Alice"), bob(*server_, "Bob");
  alice.register_now();
  bob.register_now();
  ASSERT_EQ(alice.run({"dm", bob.phone()}).rc, 0);
  ASSERT_EQ(bob.run({"dm", alice.phone()}).rc, 0);  // Bob learns Alice's name
  Background human(bob, *server_, {"tail"});
  Background json(bob, *server_, {"--json", "tail"});
  ASSERT_TRUE(human.wait_output("following")) << human.output();
  std::this_thread::sleep_for(300ms);  // the JSON tail connects too
  ASSERT_EQ(alice.run({"send", bob.phone(), "live one"}).rc, 0);
  EXPECT_TRUE(human.wait_output("live one")) << human.output();
  EXPECT_TRUE(json.wait_output("live one")) << json.output();
  EXPECT_EQ(human.stop(SIGINT), 0);
  EXPECT_EQ(json.stop(SIGINT), 0);
  EXPECT_TRUE(contains(human.output(), "Alice: live one")) << human.output();
  auto jl = json.output();
  expect_json_lines(jl);
  EXPECT_TRUE(contains(jl, "\"event\":\"rooms.message\"") && contains(jl, "\"text\":\"live one\""))
      << jl;
}

TEST_F(CliTest, ChatSendsInputLinesAndShowsTheRoom) {
  User alice(*server_, "Alice"), bob(*server_, "Bob");
  alice.register_now();
  bob.register_now();
  ASSERT_EQ(alice.run({"send", bob.phone(), "before chat"}).rc, 0);
  Background chat(bob, *server_, {"chat", alice.phone()}, "first line\nsecond line\n");
  EXPECT_EQ(chat.stop(0, 15s), 0) << chat.output();
  EXPECT_TRUE(contains(chat.output(), "Alice: before chat")) << chat.output();
  CliRun r = alice.run({"history", bob.phone()});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "Bob: first line") && contains(r.out, "Bob: second line")) << r.out;
  r = alice.run({"--json", "unread"});
  EXPECT_TRUE(contains(r.out, "\"unread\":2")) << r.out;
  r = bob.run({"--json", "unread"});
  EXPECT_TRUE(contains(r.out, "\"unread\":0")) << "chat marks the room read: " << r.out;
}

TEST_F(CliTest, ErrorsSayWhatHappenedAndExitNonZero) {
  User alice(*server_, "Alice");
  // Not logged in.
  CliRun r = alice.run({"rooms"});
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_TRUE(contains(r.out, "not logged in") && contains(r.out, "parley login")) << r.out;
  // Untrusted certificate (no --ca, no --insecure).
  r = alice.run({"register", "--phone", alice.phone(), "--name", "A"}, true, /*with_ca=*/false);
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_TRUE(contains(r.out, "certificate is not trusted") && contains(r.out, "--ca")) << r.out;
  // --insecure works against the development certificate.
  r = alice.run({"--insecure", "register", "--phone", alice.phone(), "--name", "Alice"}, true, false);
  EXPECT_EQ(r.rc, 0) << r.out;
  // Already registered; wrong password.
  r = alice.run({"register", "--phone", alice.phone(), "--name", "Alice"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "already registered")) << r.out;
  {
    std::vector<std::string> args = {"--server", "127.0.0.1:" + std::to_string(server_->port()),
                                     "--insecure", "login", "--phone", alice.phone()};
    auto env = alice.env();
    env.back() = "PARLEY_PASSWORD=wrong password";
    std::string out;
    EXPECT_EQ(run_program(parley_path(), args, &out, 20000, env), 4) << out;
    EXPECT_TRUE(contains(out, "wrong phone number or password")) << out;
  }
  // Refused requests.
  r = alice.run({"send", "no-such-room", "x"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "no room matches")) << r.out;
  r = alice.run({"dm", "+19999999999"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "no user has the phone number")) << r.out;
  r = alice.run({"history", "00000000-0000-7000-8000-000000000000"});
  EXPECT_EQ(r.rc, 1) << r.out;
  // Usage errors.
  EXPECT_EQ(alice.run({"frobnicate"}).rc, 2);
  EXPECT_EQ(alice.run({"history", "x", "--limit", "many"}).rc, 2);

  // An expired access token is renewed with the refresh token...
  std::string saved = read_file(alice.session_path()).value_or("");
  auto replace_field = [](std::string s, const std::string& key, const std::string& value) {
    size_t at = s.find("\"" + key + "\":\"");
    size_t start = at + key.size() + 4;
    size_t end = s.find('"', start);
    return s.replace(start, end - start, value);
  };
  ASSERT_TRUE(write_file(alice.session_path(), replace_field(saved, "token", "expired")));
  r = alice.run({"whoami"});
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_FALSE(contains(read_file(alice.session_path()).value_or(""), "\"token\":\"expired\""));
  // ... and without a valid refresh token the session is over.
  saved = read_file(alice.session_path()).value_or("");
  saved = replace_field(saved, "token", "expired");
  ASSERT_TRUE(write_file(alice.session_path(), replace_field(saved, "refresh_token", "gone")));
  r = alice.run({"whoami"});
  EXPECT_EQ(r.rc, 4) << r.out;
  EXPECT_TRUE(contains(r.out, "session has expired") && contains(r.out, "parley login")) << r.out;

  // Unreachable server.
  server_->stop();
  r = alice.run({"--insecure", "login", "--phone", alice.phone()}, true, false);
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_TRUE(contains(r.out, "cannot reach the server") && contains(r.out, "parleyd")) << r.out;
}

}  // namespace
}  // namespace parley::test::client
