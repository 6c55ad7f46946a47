// The JSON-line log: escaping of any text into a JSON string, the UTC millisecond
// timestamp, and whole lines on stderr, which the tests read back by pointing
// STDERR_FILENO at a pipe for the length of the test.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/log.hpp"

namespace ignite::common {
namespace {

using json = nlohmann::json;
using namespace std::string_view_literals;

const std::regex k_time_format(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");

std::string escaped(std::string_view s) {
  std::string out;
  append_json_escaped(out, s);
  return out;
}

// What a JSON parser reads back from `s` written as a JSON string.
std::string parsed_back(std::string_view s) {
  std::string text;
  append_json_string(text, s);
  return json::parse(text).get<std::string>();
}

// "2026-11-27T07:12:33.123Z" for `t`, computed here independently of the code under test.
std::string utc_text(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t second = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&second, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(date) + frac;
}

// Points STDERR_FILENO at a pipe, drained by a thread, until finish(): the test sees
// exactly what the process wrote to stderr meanwhile. A pipe, not a file, so that a
// write larger than PIPE_BUF may be split by the kernel, as it may be on a real stderr.
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
      char buf[16384];
      for (;;) {
        const auto n = ::read(read_end_, buf, sizeof buf);
        if (n > 0) {
          text_.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          return;  // every write end is closed: finish() restored stderr
        }
      }
    });
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;
  ~stderr_capture() { finish(); }

  // Restores stderr and returns everything written to it since construction.
  std::string finish() {
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);  // closes the last write end: the reader sees EOF
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
  std::string text_;  // reader_ only until it is joined
};

// `text` split after each '\n'; every line must end in one.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t from = 0;
  while (from < text.size()) {
    const auto nl = text.find('\n', from);
    if (nl == std::string::npos) {
      ADD_FAILURE() << "unterminated line: " << text.substr(from, 200);
      break;
    }
    lines.push_back(text.substr(from, nl - from));
    from = nl + 1;
  }
  return lines;
}

// --- append_json_escaped / append_json_string ------------------------------------------

TEST(append_json_escaped, quotes_and_backslashes_are_escaped) {
  EXPECT_EQ(escaped(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escaped(R"(C:\pods\)"), R"(C:\\pods\\)");
  EXPECT_EQ(escaped(R"(\")"), R"(\\\")");
}

TEST(append_json_escaped, newlines_and_tabs_use_short_escapes) {
  EXPECT_EQ(escaped("a\nb"), R"(a\nb)");
  EXPECT_EQ(escaped("a\r\nb"), R"(a\r\nb)");
  EXPECT_EQ(escaped("\tindented"), R"(\tindented)");
}

TEST(append_json_escaped, other_control_bytes_are_u00xx) {
  EXPECT_EQ(escaped("\0"sv), R"(\u0000)");
  EXPECT_EQ(escaped("\x01"), R"(\u0001)");
  EXPECT_EQ(escaped("\b\f"), R"(\u0008\u000c)");
  EXPECT_EQ(escaped("\x1b[31mred"), R"(\u001b[31mred)");
  EXPECT_EQ(escaped("\x1f"), R"(\u001f)");
}

TEST(append_json_escaped, printable_ascii_and_utf8_pass_through) {
  EXPECT_EQ(escaped("plain text / 100% {ok} <tag>"), "plain text / 100% {ok} <tag>");
  EXPECT_EQ(escaped("\x7f"), "\\u007f");  // JSON allows DEL raw; a terminal tailing the log should not get it
  const std::string utf8 = "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
  EXPECT_EQ(escaped(utf8), utf8);
}

TEST(append_json_escaped, appends_to_what_is_there) {
  std::string out = "\"line\":\"";
  append_json_escaped(out, "a\"b");
  EXPECT_EQ(out, R"("line":"a\"b)");
}

TEST(append_json_escaped, every_ascii_byte_round_trips_through_a_json_parser) {
  std::string all;
  for (int c = 0; c < 128; ++c) all += static_cast<char>(c);
  EXPECT_EQ(parsed_back(all), all);
}

TEST(append_json_escaped, utf8_round_trips_through_a_json_parser) {
  const std::string utf8 = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"quoted\"\n";
  EXPECT_EQ(parsed_back(utf8), utf8);
}

// DISABLED: bytes that are not UTF-8 (a pod printing Latin-1, a binary blob, a line cut
// in the middle of a character) are copied as they are, so the log line is not valid
// JSON and strict JSON-line readers reject it. Fix: in append_json_escaped, replace each
// byte that does not start or continue a valid UTF-8 sequence with \ufffd (or \u00XX).
TEST(append_json_escaped, invalid_utf8_still_gives_valid_json) {
  for (std::string_view bad : {"caf\xe9"sv, "\xff\xfe"sv, "cut \xe2\x82"sv, "\xc0\xaf"sv}) {
    std::string text;
    append_json_string(text, bad);
    EXPECT_TRUE(json::accept(text)) << ::testing::PrintToString(std::string(bad));
  }
}

TEST(append_json_string, adds_the_quotes) {
  std::string out;
  append_json_string(out, "");
  EXPECT_EQ(out, R"("")");
  append_json_string(out, "a\tb");
  EXPECT_EQ(out, R"("""a\tb")");
}

// --- append_log_time -------------------------------------------------------------------

TEST(append_log_time, utc_with_milliseconds) {
  std::string out;
  append_log_time(out);
  EXPECT_TRUE(std::regex_match(out, k_time_format)) << out;
}

TEST(append_log_time, is_the_current_utc_time) {
  // Equal-width ISO 8601 texts order like the times they name.
  const auto before = utc_text(std::chrono::system_clock::now());
  std::string out;
  append_log_time(out);
  const auto after = utc_text(std::chrono::system_clock::now());
  EXPECT_LE(before, out);
  EXPECT_LE(out, after);
}

TEST(append_log_time, appends_to_what_is_there) {
  std::string out = "at ";
  append_log_time(out);
  append_log_time(out);
  ASSERT_EQ(out.size(), 3u + 2 * 24u) << out;
  EXPECT_EQ(out.substr(0, 3), "at ");
  EXPECT_TRUE(std::regex_match(out.substr(3, 24), k_time_format)) << out;
  EXPECT_TRUE(std::regex_match(out.substr(27), k_time_format)) << out;
}

TEST(append_log_time, each_thread_formats_its_own_time) {
  // The date part is cached per thread: a fresh thread must fill its own cache.
  std::string theirs;
  std::thread([&] { append_log_time(theirs); }).join();
  std::string ours;
  append_log_time(ours);
  EXPECT_TRUE(std::regex_match(theirs, k_time_format)) << theirs;
  EXPECT_LE(theirs, ours);
}

// --- log_event / log_write -------------------------------------------------------------

TEST(log_event, writes_one_json_line_with_time_and_event_first) {
  stderr_capture capture;
  log_event("proxy_started");
  const auto text = capture.finish();
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 1u) << text;
  EXPECT_TRUE(lines[0].starts_with(R"({"time":")")) << lines[0];
  const auto j = json::parse(lines[0]);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 2u) << lines[0];
  EXPECT_EQ(j.at("event"), "proxy_started");
  EXPECT_TRUE(std::regex_match(j.at("time").get<std::string>(), k_time_format)) << lines[0];
}

TEST(log_event, fields_follow_the_event) {
  std::string fields = R"("port":9001,"reason":)";
  append_json_string(fields, "pod said \"no\"\nand left\x01");
  stderr_capture capture;
  log_event("pod_exited", fields);
  const auto lines = lines_of(capture.finish());
  ASSERT_EQ(lines.size(), 1u);
  const auto j = json::parse(lines[0]);
  EXPECT_EQ(j.size(), 4u) << lines[0];
  EXPECT_EQ(j.at("event"), "pod_exited");
  EXPECT_EQ(j.at("port"), 9001);
  EXPECT_EQ(j.at("reason"), "pod said \"no\"\nand left\x01");
  EXPECT_LT(lines[0].find(R"("event")"), lines[0].find(R"("port")"));
}

TEST(log_event, consecutive_events_are_consecutive_lines) {
  stderr_capture capture;
  log_event("first");
  log_event("second", R"("n":2)");
  const auto lines = lines_of(capture.finish());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[0]).at("event"), "first");
  EXPECT_EQ(json::parse(lines[1]).at("n"), 2);
}

TEST(log_write, writes_the_bytes_as_given) {
  const std::string text = "{\"a\":1}\n{\"b\":2}\n";
  stderr_capture capture;
  log_write(text);
  log_write("");
  EXPECT_EQ(capture.finish(), text);
}

TEST(log_write, large_lines_arrive_whole) {
  // Larger than a pipe holds: the write loop must carry on after partial writes.
  std::string line = R"({"pad":")" + std::string(300000, 'x') + "\"}\n";
  stderr_capture capture;
  log_write(line);
  EXPECT_EQ(capture.finish(), line);
}

TEST(log_write, a_closed_stderr_loses_lines_without_failing) {
  const int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ::close(STDERR_FILENO);
  log_event("nobody_hears_this");
  log_write("nor this\n");
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  // Still usable once stderr is back.
  stderr_capture capture;
  log_event("back");
  const auto lines = lines_of(capture.finish());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(json::parse(lines[0]).at("event"), "back");
}

TEST(log_event, lines_from_several_threads_never_interleave) {
  constexpr int k_threads = 4;
  constexpr int k_events = 200;
  // Each line is larger than PIPE_BUF, so the kernel alone would not keep it whole.
  constexpr std::size_t k_pad = 8000;
  stderr_capture capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([t] {
      const std::string pad(k_pad, static_cast<char>('a' + t));
      for (int i = 0; i < k_events; ++i) {
        log_event("tick",
                  R"("thread":)" + std::to_string(t) + R"(,"seq":)" + std::to_string(i) + R"(,"pad":")" + pad + "\"");
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto lines = lines_of(capture.finish());
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(k_threads * k_events));
  std::set<std::pair<int, int>> seen;
  std::vector<int> next_seq(k_threads, 0);
  for (const auto& line : lines) {
    const auto j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line.substr(0, 120) << "…";
    const int t = j.at("thread").get<int>();
    const int seq = j.at("seq").get<int>();
    ASSERT_GE(t, 0);
    ASSERT_LT(t, k_threads);
    EXPECT_EQ(j.at("pad").get<std::string>(), std::string(k_pad, static_cast<char>('a' + t)));
    // One thread's lines keep their order.
    EXPECT_EQ(seq, next_seq[t]) << "thread " << t;
    next_seq[t] = seq + 1;
    seen.emplace(t, seq);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(k_threads * k_events));
}

}  // namespace
}  // namespace ignite::common
