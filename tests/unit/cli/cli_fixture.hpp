#pragma once
// Runs the whole `ignite` CLI in process (cli::run) against a fake control API: a real
// HTTP server on 127.0.0.1:<kernel-chosen port> in this process (support/fake_pod) that
// records every request and answers as the test scripts it. Each test gets its own
// HOME in a temporary directory, so no test reads or writes the real config.

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/environment.hpp"
#include "support/fake_pod.hpp"

namespace ignite::test {

struct cli_result {
  int code = -1;
  std::string out;
  std::string err;
};

class cli_fixture : public ::testing::Test {
 protected:
  static constexpr const char* k_token = "operator-token-0123456789";

  // HOME is a fresh temporary directory; IGNITE_API_ENDPOINT names the fake API and
  // IGNITE_TOKEN is k_token (tests that need the config file remove them).
  cli_fixture();
  ~cli_fixture() override;

  // Runs `ignite args…` with `stdin_text` as its stdin.
  cli_result run(std::vector<std::string> args, const std::string& stdin_text = "");

  // Scripts the API's next answers: `status` with `body` as application/json.
  void answer(unsigned status, const std::string& body, std::vector<std::pair<std::string, std::string>> headers = {});
  // The one request the API received (the test fails if it received another number).
  recorded_request only_request() const;

  std::string endpoint_url() const { return "http://" + api_.endpoint(); }

  fake_pod api_{"api"};
  std::filesystem::path home_;
  cli::environment env_;
};

}  // namespace ignite::test
