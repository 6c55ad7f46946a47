#include "cli_fixture.hpp"

#include <cstdlib>
#include <sstream>

#include "cli/command_line.hpp"

namespace ignite::test {

cli_fixture::cli_fixture() {
  std::string dir = (std::filesystem::temp_directory_path() / "ignite-cli-test-XXXXXX").string();
  if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
  home_ = dir;
  env_.variables["HOME"] = home_.string();
  env_.variables["IGNITE_API_ENDPOINT"] = endpoint_url();
  env_.variables["IGNITE_TOKEN"] = k_token;
  answer(200, "{}");
}

cli_fixture::~cli_fixture() {
  api_.stop();
  std::error_code ec;
  std::filesystem::remove_all(home_, ec);
}

cli_result cli_fixture::run(std::vector<std::string> args, const std::string& stdin_text) {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  cli_result r;
  r.code = cli::run(std::move(args), in, out, err, env_);
  r.out = out.str();
  r.err = err.str();
  return r;
}

void cli_fixture::answer(unsigned status, const std::string& body,
                         std::vector<std::pair<std::string, std::string>> headers) {
  pod_reply reply;
  reply.status = status;
  reply.body = body;
  reply.headers.emplace_back("Content-Type", "application/json");
  for (auto& h : headers) reply.headers.push_back(std::move(h));
  api_.reply_with(std::move(reply));
}

recorded_request cli_fixture::only_request() const {
  auto requests = api_.requests();
  EXPECT_EQ(requests.size(), 1u);
  return requests.empty() ? recorded_request{} : requests.front();
}

}  // namespace ignite::test
