// The access log: the JSON line of one request, field by field and parsed back, and the
// per-worker buffer (written at 64 KiB, 50 ms after its first line, or on flush) with
// this process's stderr captured in a temporary file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "proxy/access_log.hpp"

namespace ignite::proxy {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr std::string_view k_execution_id = "01JD5Z8N7Y3K2M4P6Q8R0S1T2V";

request_record answered_record() {
  request_record r;
  r.execution_id = k_execution_id;
  r.app_id = "acme-corp:greeter";
  r.version = "3";
  r.status = 200;
  r.duration = 1234us;
  return r;
}

std::string line_of(const request_record& r) {
  std::string out;
  access_log::format(r, out);
  return out;
}

// The one line `r` formats to, parsed; fails the test if it is not exactly one JSON line.
json parsed(const request_record& r) {
  const auto line = line_of(r);
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n') << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  return json::parse(line, nullptr, false);  // a discarded value on a parse error
}

// Sends this process's stderr (where common::log_write writes) to a temporary file for
// as long as it lives, then puts the real stderr back.
class stderr_capture {
 public:
  stderr_capture() : file_(std::tmpfile()), saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    if (file_ && saved_ >= 0) redirected_ = ::dup2(::fileno(file_), STDERR_FILENO) >= 0;
  }
  ~stderr_capture() {
    std::fflush(stderr);
    if (redirected_) ::dup2(saved_, STDERR_FILENO);
    if (saved_ >= 0) ::close(saved_);
    if (file_) std::fclose(file_);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  bool ok() const { return redirected_; }

  // Everything written so far. pread leaves the shared file offset where writes go.
  std::string text() const {
    struct stat st {};
    if (::fstat(::fileno(file_), &st) != 0) return {};
    std::string out(static_cast<std::size_t>(st.st_size), '\0');
    auto n = ::pread(::fileno(file_), out.data(), out.size(), 0);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

 private:
  std::FILE* file_;
  int saved_;
  bool redirected_ = false;
};

// Runs `ctx` one handler at a time until `pred` holds or `cap` has passed.
template <class Predicate>
bool run_until(boost::asio::io_context& ctx, std::chrono::milliseconds cap, Predicate pred) {
  const auto deadline = std::chrono::steady_clock::now() + cap;
  while (!pred()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    ctx.restart();
    ctx.run_one_for(deadline - now);
  }
  return true;
}

// --- format: the line -----------------------------------------------------------------

TEST(access_log_format, is_one_json_line_ending_in_newline) {
  const auto j = parsed(answered_record());
  ASSERT_FALSE(j.is_discarded()) << line_of(answered_record());
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.at("event"), "request");
  ASSERT_TRUE(j.at("time").is_string());
  EXPECT_EQ(j.at("time").get<std::string>().back(), 'Z');
}

TEST(access_log_format, appends_to_what_is_already_there) {
  std::string out = "earlier line\n";
  access_log::format(answered_record(), out);
  ASSERT_EQ(out.rfind("earlier line\n", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  const auto j = json::parse(out.substr(13), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j.at("execution_id"), k_execution_id);
}

TEST(access_log_format, carries_the_request_fields) {
  auto r = answered_record();
  r.status = 201;
  const auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.at("execution_id"), k_execution_id);
  EXPECT_EQ(j.at("app"), "acme-corp:greeter");
  ASSERT_TRUE(j.at("status").is_number_integer());
  EXPECT_EQ(j.at("status"), 201);
  ASSERT_TRUE(j.at("cold_start").is_boolean());
  EXPECT_EQ(j.at("cold_start"), false);
}

TEST(access_log_format, version_is_a_json_number) {
  auto r = answered_record();
  r.version = "12";
  const auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_TRUE(j.at("version").is_number_integer()) << j.dump();
  EXPECT_EQ(j.at("version"), 12);
}

TEST(access_log_format, cold_start_is_true_when_the_request_waited_for_a_pod) {
  auto r = answered_record();
  r.cold_start = true;
  const auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.at("cold_start"), true);
}

TEST(access_log_format, duration_is_milliseconds_with_three_decimals) {
  struct sample {
    long micros;
    std::string_view text;
  };
  const sample samples[] = {
      {0, "0.000"},    {5, "0.005"},       {50, "0.050"},        {999, "0.999"},          {1000, "1.000"},
      {1234, "1.234"}, {10'010, "10.010"}, {999'999, "999.999"}, {1'000'000, "1000.000"}, {60'000'123, "60000.123"}};
  for (const auto& s : samples) {
    auto r = answered_record();
    r.duration = std::chrono::microseconds(s.micros);
    const auto line = line_of(r);
    const std::string want = "\"duration_ms\":" + std::string(s.text) + ",";
    EXPECT_NE(line.find(want), std::string::npos) << s.micros << " us: " << line;
    const auto j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_DOUBLE_EQ(j.at("duration_ms").get<double>(), static_cast<double>(s.micros) / 1000.0) << s.micros;
  }
}

TEST(access_log_format, no_app_or_version_when_no_app_matched) {
  auto r = answered_record();
  r.app_id = {};
  r.version = {};
  r.status = 404;
  r.error = proxy_error::app_not_found;
  r.source = error_source::client;
  const auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded()) << line_of(r);
  EXPECT_FALSE(j.contains("app"));
  EXPECT_FALSE(j.contains("version"));
  EXPECT_EQ(j.at("status"), 404);
  EXPECT_EQ(j.at("error"), "app_not_found");
}

TEST(access_log_format, no_error_fields_without_an_error) {
  auto r = answered_record();
  r.cut = true;                    // ignored: there is no error
  r.error_detail = "ignored too";  // likewise
  const auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_FALSE(j.contains("error"));
  EXPECT_FALSE(j.contains("error_source"));
  EXPECT_FALSE(j.contains("cut"));
  EXPECT_FALSE(j.contains("error_detail"));
}

TEST(access_log_format, error_is_the_tables_code) {
  for (std::size_t i = 1; i < k_proxy_error_count; ++i) {
    const auto kind = static_cast<proxy_error>(i);
    auto r = answered_record();
    r.error = kind;
    r.status = row_of(kind).status;
    const auto j = parsed(r);
    ASSERT_FALSE(j.is_discarded()) << row_of(kind).code;
    EXPECT_EQ(j.at("error"), row_of(kind).code);
    EXPECT_EQ(j.at("status"), row_of(kind).status);
  }
}

TEST(access_log_format, error_source_is_named) {
  for (auto source : {error_source::client, error_source::pod, error_source::proxy}) {
    auto r = answered_record();
    r.error = proxy_error::upstream_error;
    r.source = source;
    const auto j = parsed(r);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j.at("error_source"), name_of(source));
  }
}

TEST(access_log_format, cut_only_when_set) {
  auto r = answered_record();
  r.error = proxy_error::upstream_error;
  r.source = error_source::pod;
  auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_FALSE(j.contains("cut"));

  EXPECT_FALSE(j.contains("cut_cause"));

  r.cut = true;
  r.cut_cause = "pod_failed";
  j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.at("cut"), true);
  EXPECT_EQ(j.at("cut_cause"), "pod_failed");
}

TEST(access_log_format, no_error_detail_when_empty) {
  auto r = answered_record();
  r.error = proxy_error::upstream_timeout;
  const auto j = parsed(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(j.contains("error"));
  EXPECT_FALSE(j.contains("error_detail"));
}

TEST(access_log_format, error_detail_is_escaped) {
  const std::string detail =
      "pod said \"no\"\nat line 2\r\n\ttabbed \\ backslash {\"json\":1} "
      "\x01\x02\x1f\x7f and \xc3\xa9t\xc3\xa9 end";
  auto r = answered_record();
  r.error = proxy_error::pod_start_failed;
  r.error_detail = detail;
  const auto line = line_of(r);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_TRUE(std::none_of(line.begin(), line.end() - 1, [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      << "raw control byte in " << line;
  const auto j = json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  EXPECT_EQ(j.at("error_detail"), detail);
  EXPECT_EQ(j.at("error"), "pod_start_failed");
}

TEST(access_log_format, error_detail_with_a_nul_byte_is_escaped) {
  const std::string detail("before\0after", 12);
  auto r = answered_record();
  r.error = proxy_error::upstream_error;
  r.error_detail = detail;
  const auto line = line_of(r);
  EXPECT_EQ(line.find('\0'), std::string::npos);
  const auto j = json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  EXPECT_EQ(j.at("error_detail"), detail);
}

// error_detail may carry a pod's own output (the stderr tail of a pod that failed to
// start), which is arbitrary bytes; invalid UTF-8 must not make the line invalid JSON
// (RFC 8259 text is UTF-8), or a strict log reader drops the whole line.
TEST(access_log_format, error_detail_with_invalid_utf8_still_makes_a_json_line) {
  auto r = answered_record();
  r.error = proxy_error::pod_start_failed;
  r.error_detail = "binary \xff\xfe from the pod \xc3";
  const auto line = line_of(r);
  const auto j = json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  const auto detail = j.at("error_detail").get<std::string>();
  EXPECT_EQ(detail.rfind("binary ", 0), 0u) << detail;
  EXPECT_NE(detail.find(" from the pod "), std::string::npos) << detail;
}

// --- request/flush: the buffer --------------------------------------------------------

TEST(access_log_format, carries_method_bytes_client_tls_and_trace) {
  auto r = answered_record();
  r.method = "POST";
  r.upstream_duration = 1001us;
  r.bytes_in = 321;
  r.bytes_out = 654;
  r.client = "192.0.2.7";
  r.tls_version = "TLSv1.3";
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto j = parsed(r);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["upstream_ms"], 1.001);
  EXPECT_EQ(j["bytes_in"], 321);
  EXPECT_EQ(j["bytes_out"], 654);
  EXPECT_EQ(j["client"], "192.0.2.7");
  EXPECT_EQ(j["tls_version"], "TLSv1.3");
  EXPECT_EQ(j["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(access_log_format, optional_fields_are_left_out_when_unknown) {
  auto j = parsed(answered_record());
  for (const char* key : {"method", "upstream_ms", "client", "tls_version", "trace_id"})
    EXPECT_FALSE(j.contains(key)) << key;
  EXPECT_EQ(j["bytes_in"], 0);
}

TEST(access_log_format, a_method_is_escaped) {
  auto r = answered_record();
  r.method = "PO\"ST";
  EXPECT_EQ(parsed(r)["method"], "PO\"ST");
}

TEST(access_log_sink, writes_to_its_file_and_reopens_it_by_name) {
  const auto dir = std::filesystem::temp_directory_path() / ("ignite-sink-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "access.log";
  {
    access_log_sink sink(file, false);
    sink.write("one\n");
    std::filesystem::rename(file, dir / "access.log.1");
    sink.write("two\n");  // still the renamed file, as logrotate expects until the signal
    EXPECT_EQ(sink.reopen(), "");
    sink.write("three\n");
  }
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(dir / "access.log.1"), "one\ntwo\n");
  EXPECT_EQ(read(file), "three\n");
  std::filesystem::remove_all(dir);
}

TEST(access_log_sink, a_file_that_cannot_be_opened_is_an_error_naming_it) {
  try {
    access_log_sink sink("/nonexistent-dir/access.log", true);
    ADD_FAILURE() << "opened";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/access.log"), std::string::npos) << e.what();
  }
}

TEST(access_log_buffer, lines_wait_for_flush) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);

  auto first = answered_record();
  auto second = answered_record();
  second.status = 502;
  second.error = proxy_error::upstream_error;
  log.request(first);
  log.request(second);
  EXPECT_EQ(captured.text(), "");

  log.flush();
  const auto text = captured.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  const auto newline = text.find('\n');
  ASSERT_NE(newline, std::string::npos);
  const auto j1 = json::parse(text.substr(0, newline + 1), nullptr, false);
  const auto j2 = json::parse(text.substr(newline + 1), nullptr, false);
  ASSERT_FALSE(j1.is_discarded()) << text;
  ASSERT_FALSE(j2.is_discarded()) << text;
  EXPECT_EQ(j1.at("status"), 200);
  EXPECT_EQ(j2.at("status"), 502);
}

TEST(access_log_buffer, flush_of_an_empty_buffer_writes_nothing) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);
  log.flush();
  EXPECT_EQ(captured.text(), "");
}

TEST(access_log_buffer, the_timer_writes_lines_nobody_flushed) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);

  log.request(answered_record());
  log.request(answered_record());
  EXPECT_EQ(captured.text(), "");  // nothing before the loop runs the timer

  EXPECT_TRUE(run_until(ctx, 5000ms, [&] { return !captured.text().empty(); }));
  const auto text = captured.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
}

TEST(access_log_buffer, each_batch_gets_its_own_timer) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);
  auto lines = [&] {
    const auto t = captured.text();
    return std::count(t.begin(), t.end(), '\n');
  };

  log.request(answered_record());
  EXPECT_TRUE(run_until(ctx, 5000ms, [&] { return lines() == 1; }));
  log.request(answered_record());
  EXPECT_EQ(lines(), 1);
  EXPECT_TRUE(run_until(ctx, 5000ms, [&] { return lines() == 2; }));
}

TEST(access_log_buffer, later_lines_do_not_postpone_the_timer) {
  // The wait starts at a batch's first line: a steady trickle of requests, each arriving
  // before the previous wait would end, must still be written by the timer, long before
  // the buffer fills.
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);
  const auto line_size = line_of(answered_record()).size();
  constexpr std::size_t k_stop_before = 60 * 1024;

  std::size_t buffered = 0;
  while (captured.text().empty() && buffered + line_size < k_stop_before) {
    log.request(answered_record());
    buffered += line_size;
    ctx.restart();
    ctx.run_one_for(5ms);  // the timer's handler, if it is due; else the next line
  }
  const auto text = captured.text();
  EXPECT_FALSE(text.empty()) << "nothing written after " << buffered << " bytes of lines";
  EXPECT_LT(text.size(), k_stop_before);
}

TEST(access_log_buffer, an_explicit_flush_is_not_written_again_by_the_timer) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);

  log.request(answered_record());
  log.flush();
  const auto after_flush = captured.text();
  EXPECT_EQ(std::count(after_flush.begin(), after_flush.end(), '\n'), 1);

  // The timer armed by the first line still fires; it finds nothing to write.
  ctx.run_for(5000ms);
  EXPECT_TRUE(ctx.stopped()) << "the flush timer was still pending after 5 s";
  EXPECT_EQ(captured.text(), after_flush);
}

TEST(access_log_buffer, sixty_four_kib_is_written_without_waiting_for_the_timer) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  access_log log(ctx);

  // ~1 KiB lines: the buffer crosses 64 KiB within a few dozen requests.
  const std::string detail(900, 'd');
  auto r = answered_record();
  r.error = proxy_error::upstream_error;
  r.error_detail = detail;
  const auto line_size = line_of(r).size();
  constexpr std::size_t k_flush_bytes = 64 * 1024;

  std::size_t buffered = 0;
  int requests = 0;
  while (buffered + line_size < k_flush_bytes) {
    log.request(r);
    buffered += line_size;
    ++requests;
  }
  ASSERT_GT(requests, 1);
  EXPECT_EQ(captured.text(), "") << "written before 64 KiB";

  log.request(r);  // crosses 64 KiB; the io_context has not run, so no timer did this
  ++requests;
  const auto text = captured.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), requests);
  EXPECT_GE(text.size(), k_flush_bytes);

  // The batch's timer was cancelled with it: running the loop writes nothing more.
  ctx.run_for(5000ms);
  EXPECT_TRUE(ctx.stopped());
  EXPECT_EQ(captured.text().size(), text.size());
}

TEST(access_log_buffer, destruction_writes_what_is_left) {
  stderr_capture captured;
  ASSERT_TRUE(captured.ok());
  boost::asio::io_context ctx;
  {
    access_log log(ctx);
    log.request(answered_record());
    EXPECT_EQ(captured.text(), "");
  }
  const auto text = captured.text();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  ctx.run_for(5000ms);  // the cancelled timer's handler must not touch the dead log
  EXPECT_TRUE(ctx.stopped());
}

}  // namespace
}  // namespace ignite::proxy
