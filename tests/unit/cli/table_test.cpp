#include "cli/table.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ignite::cli {
namespace {

std::string printed(const table& t) {
  std::ostringstream out;
  t.print(out);
  return out.str();
}

TEST(table, columns_are_aligned_two_spaces_apart) {
  table t({"ID", "ACTIVE", "URL"});
  t.add_row({"acme-corp:greeter", "2", "http://x"});
  t.add_row({"a:b", "-", "-"});
  EXPECT_EQ(printed(t),
            "ID                 ACTIVE  URL\n"
            "acme-corp:greeter  2       http://x\n"
            "a:b                -       -\n");
}

TEST(table, short_rows_are_padded_and_no_line_ends_in_spaces) {
  table t({"A", "B"});
  EXPECT_TRUE(t.empty());
  t.add_row({"long value"});
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(printed(t),
            "A           B\n"
            "long value\n");
}

}  // namespace
}  // namespace ignite::cli
