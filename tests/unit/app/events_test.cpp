// The pod lifecycle and output lines: fields that parse as JSON whatever a pod or a
// reason says, the key each kind of note uses for its detail, and the event name each
// kind is written under.
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/events.hpp"

namespace ignite::app {
namespace {

using json = nlohmann::json;
using kind = coldstart::pod_note::kind;
using namespace std::string_literals;

// Text a pod or a failing start could produce: quotes, backslashes, line breaks, ANSI
// colours, NUL and the other control bytes, and UTF-8.
const std::string k_hostile = "say \"hi\" \\ back\nslash\r\n\t\x1b[31mred\x1b[0m\0nul\x01\x1f caf\xc3\xa9"s;

coldstart::pod_spec spec() {
  coldstart::pod_spec s;
  s.app_id = "acme-corp:greeter";
  s.version = "3";
  return s;
}

// `fields` as the object they are part of in the log line; fails the test if not JSON.
json object_of(const std::string& fields) {
  auto j = json::parse("{" + fields + "}", nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: {" << fields << "}";
  return j;
}

json note_fields(kind what, std::string detail, std::int64_t start_ms = -1) {
  return object_of(pod_note_fields(spec(), coldstart::pod_note{what, 42, std::move(detail), start_ms}));
}

// Points STDERR_FILENO at a pipe until finish(), drained by a thread.
class stderr_capture {
 public:
  stderr_capture() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[1]);
    read_end_ = fds[0];
    reader_ = std::thread([this] {
      char buf[4096];
      for (;;) {
        const auto n = ::read(read_end_, buf, sizeof buf);
        if (n > 0) {
          text_.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          return;
        }
      }
    });
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;
  ~stderr_capture() { finish(); }

  // Restores stderr and returns what was written to it.
  std::string finish() {
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
      reader_.join();
      ::close(read_end_);
    }
    return text_;
  }

 private:
  int saved_ = -1;
  int read_end_ = -1;
  std::thread reader_;
  std::string text_;
};

// --- pod_note_fields -------------------------------------------------------------------

TEST(pod_note_fields, every_note_names_the_app_version_and_pod) {
  for (auto what : {kind::starting, kind::ready, kind::stopping, kind::exited}) {
    const auto j = note_fields(what, "detail");
    EXPECT_EQ(j.at("app"), "acme-corp:greeter");
    EXPECT_EQ(j.at("version"), 3);  // config versions are numbers
    EXPECT_EQ(j.at("pod"), 42);
  }
}

TEST(pod_note_fields, starting_gives_the_endpoint) {
  const auto j = note_fields(kind::starting, "127.0.0.1:9001");
  EXPECT_EQ(j.at("endpoint"), "127.0.0.1:9001");
  EXPECT_EQ(j.size(), 4u) << j.dump();
}

TEST(pod_note_fields, ready_gives_the_address_and_start_time) {
  const auto j = note_fields(kind::ready, "127.0.0.1:41234", 187);
  EXPECT_EQ(j.at("address"), "127.0.0.1:41234");
  EXPECT_EQ(j.at("start_ms"), 187);
  EXPECT_EQ(j.size(), 5u) << j.dump();
}

TEST(pod_note_fields, ready_start_time_zero_is_written_and_negative_is_not) {
  EXPECT_EQ(note_fields(kind::ready, "127.0.0.1:1", 0).at("start_ms"), 0);
  // -1: a pod this pool did not start (a static endpoint, or listening again).
  const auto j = note_fields(kind::ready, "[::1]:9001", -1);
  EXPECT_FALSE(j.contains("start_ms")) << j.dump();
  EXPECT_EQ(j.at("address"), "[::1]:9001");
}

TEST(pod_note_fields, stopping_and_exited_give_the_reason) {
  const auto stopping = note_fields(kind::stopping, "idle");
  EXPECT_EQ(stopping.at("reason"), "idle");
  EXPECT_EQ(stopping.size(), 4u) << stopping.dump();
  const auto exited = note_fields(kind::exited, "exited with status 3");
  EXPECT_EQ(exited.at("reason"), "exited with status 3");
  EXPECT_EQ(exited.size(), 4u) << exited.dump();
}

TEST(pod_note_fields, detail_uses_only_its_kinds_key) {
  EXPECT_FALSE(note_fields(kind::starting, "x").contains("reason"));
  EXPECT_FALSE(note_fields(kind::ready, "x").contains("endpoint"));
  EXPECT_FALSE(note_fields(kind::stopping, "x").contains("address"));
  EXPECT_FALSE(note_fields(kind::exited, "x").contains("endpoint"));
}

TEST(pod_note_fields, empty_detail_writes_no_key) {
  for (auto what : {kind::starting, kind::ready, kind::stopping, kind::exited}) {
    const auto j = note_fields(what, "");
    EXPECT_EQ(j.size(), 3u) << j.dump();
  }
}

TEST(pod_note_fields, hostile_reason_is_escaped) {
  for (auto what : {kind::stopping, kind::exited}) {
    const auto fields = pod_note_fields(spec(), coldstart::pod_note{what, 7, k_hostile, -1});
    EXPECT_EQ(fields.find('\n'), std::string::npos) << "a raw newline would split the log line";
    EXPECT_EQ(object_of(fields).at("reason"), k_hostile);
  }
}

TEST(pod_note_fields, hostile_app_id_is_escaped) {
  auto s = spec();
  s.app_id = k_hostile;
  const auto j = object_of(pod_note_fields(s, coldstart::pod_note{kind::starting, 1, "127.0.0.1:1", -1}));
  EXPECT_EQ(j.at("app"), k_hostile);
}

// --- pod_output_fields -----------------------------------------------------------------

TEST(pod_output_fields, names_the_pod_the_stream_and_the_line) {
  const auto s = spec();
  const auto j = object_of(pod_output_fields(coldstart::pod_output{s, 9, "stdout", "listening on 41234"}));
  EXPECT_EQ(j.at("app"), "acme-corp:greeter");
  EXPECT_EQ(j.at("version"), 3);
  EXPECT_EQ(j.at("pod"), 9);
  EXPECT_EQ(j.at("stream"), "stdout");
  EXPECT_EQ(j.at("line"), "listening on 41234");
  EXPECT_EQ(j.size(), 5u) << j.dump();
}

TEST(pod_output_fields, hostile_line_is_escaped) {
  const auto s = spec();
  const auto fields = pod_output_fields(coldstart::pod_output{s, 9, "stderr", k_hostile});
  EXPECT_EQ(fields.find('\n'), std::string::npos);
  const auto j = object_of(fields);
  EXPECT_EQ(j.at("stream"), "stderr");
  EXPECT_EQ(j.at("line"), k_hostile);
}

TEST(pod_output_fields, a_line_that_fakes_fields_stays_inside_the_line) {
  const auto s = spec();
  const std::string forged = R"(x","event":"pod_ready","pod":1,"y":")";
  const auto j = object_of(pod_output_fields(coldstart::pod_output{s, 9, "stdout", forged}));
  EXPECT_EQ(j.at("line"), forged);
  EXPECT_EQ(j.at("pod"), 9);
  EXPECT_FALSE(j.contains("event"));
}

TEST(pod_output_fields, empty_line_is_an_empty_string) {
  const auto s = spec();
  EXPECT_EQ(object_of(pod_output_fields(coldstart::pod_output{s, 9, "stdout", ""})).at("line"), "");
}

// --- log_pod_note / log_pod_output -----------------------------------------------------

TEST(log_pod_note, each_kind_is_written_under_its_event_name) {
  stderr_capture capture;
  log_pod_note(spec(), {kind::starting, 5, "127.0.0.1:9001", -1});
  log_pod_note(spec(), {kind::ready, 5, "127.0.0.1:9001", 12});
  log_pod_note(spec(), {kind::stopping, 5, "idle", -1});
  log_pod_note(spec(), {kind::exited, 5, "killed by signal 15", -1});
  const auto s = spec();
  log_pod_output({s, 5, "stderr", k_hostile});
  const auto text = capture.finish();

  const char* const expected[] = {"pod_starting", "pod_ready", "pod_stopping", "pod_exited", "pod_output"};
  std::size_t from = 0;
  for (const char* event : expected) {
    const auto nl = text.find('\n', from);
    ASSERT_NE(nl, std::string::npos) << "missing the " << event << " line in: " << text;
    const auto j = json::parse(text.substr(from, nl - from), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << text.substr(from, nl - from);
    EXPECT_EQ(j.at("event"), event);
    EXPECT_EQ(j.at("pod"), 5);
    EXPECT_TRUE(j.contains("time"));
    from = nl + 1;
  }
  EXPECT_EQ(from, text.size()) << "extra output: " << text.substr(from);
}

}  // namespace
}  // namespace ignite::app
