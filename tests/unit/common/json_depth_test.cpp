// The bracket scan that bounds JSON nesting before a parse.
#include <string>

#include <gtest/gtest.h>

#include "common/json_depth.hpp"

namespace ignite::common {
namespace {

TEST(json_nests_deeper, counts_arrays_and_objects_together) {
  EXPECT_FALSE(json_nests_deeper(R"({"a": [1, {"b": []}]})", 4));
  EXPECT_TRUE(json_nests_deeper(R"({"a": [1, {"b": []}]})", 3));
  EXPECT_FALSE(json_nests_deeper("1", 0));
  EXPECT_TRUE(json_nests_deeper("[]", 0));
}

TEST(json_nests_deeper, exactly_the_limit_passes_and_one_more_does_not) {
  EXPECT_FALSE(json_nests_deeper(std::string(64, '[') + std::string(64, ']'), 64));
  EXPECT_TRUE(json_nests_deeper(std::string(65, '[') + std::string(65, ']'), 64));
}

TEST(json_nests_deeper, brackets_inside_strings_do_not_count) {
  EXPECT_FALSE(json_nests_deeper(R"(["[[[[{{{{", "\"[[[["])", 1));
  EXPECT_TRUE(json_nests_deeper(R"(["\\", [[]]])", 2)) << "an escaped backslash ends the escape";
}

TEST(json_nests_deeper, depth_is_the_deepest_point_not_the_count_of_containers) {
  std::string wide = "[";
  for (int i = 0; i < 100000; ++i) wide += "{},";
  wide += "{}]";
  EXPECT_FALSE(json_nests_deeper(wide, 2));
}

}  // namespace
}  // namespace ignite::common
