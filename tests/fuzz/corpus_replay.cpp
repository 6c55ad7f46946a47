// Replays one fuzz target's committed corpus (tests/fuzz/corpus/<target>/: the seeds
// and every input that ever crashed it) through the target's own entry point, built
// with the normal toolchain and linked against the normal libraries: every file is a
// test of its own in the normal suite, so a fixed crash stays fixed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> corpus() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(IGNITE_FUZZ_CORPUS))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

class corpus_replay : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(corpus_replay, runs_clean) {
  std::ifstream in(GetParam(), std::ios::binary);
  ASSERT_TRUE(in) << GetParam();
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A failed check in the target aborts: the test's process dies and ctest names it.
  EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
}

// Test names are the file names, with what gtest refuses in a name made '_'.
std::string test_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  auto name = info.param.filename().string();
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(corpus, corpus_replay, ::testing::ValuesIn(corpus()), test_name);

TEST(corpus_replay_seeds, are_there) { EXPECT_GE(corpus().size(), 5u) << IGNITE_FUZZ_CORPUS; }

}  // namespace
