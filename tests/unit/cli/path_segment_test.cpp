#include "cli/path_segment.hpp"

#include <gtest/gtest.h>

namespace ignite::cli {
namespace {

TEST(path_segment, ids_are_kept_as_they_are) {
  EXPECT_EQ(encode_path_segment("acme-corp:greeter"), "acme-corp:greeter");
  EXPECT_EQ(encode_path_segment("01J~a_b.c"), "01J~a_b.c");
}

TEST(path_segment, anything_that_could_change_the_path_is_encoded) {
  EXPECT_EQ(encode_path_segment("a/b"), "a%2Fb");
  EXPECT_EQ(encode_path_segment("a?b#c"), "a%3Fb%23c");
  EXPECT_EQ(encode_path_segment("50% off"), "50%25%20off");
  EXPECT_EQ(encode_path_segment("é"), "%C3%A9");
  EXPECT_EQ(encode_path_segment("."), "%2E");
  EXPECT_EQ(encode_path_segment(".."), "%2E%2E");
  EXPECT_EQ(encode_path_segment("..."), "...");
  EXPECT_EQ(encode_path_segment(""), "");
}

}  // namespace
}  // namespace ignite::cli
