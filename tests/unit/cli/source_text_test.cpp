#include "cli/source_text.hpp"

#include <gtest/gtest.h>

namespace ignite::cli {
namespace {

using json = nlohmann::json;

TEST(source_text, each_kind_of_source) {
  EXPECT_EQ(source_text(json{{"image_ref", "ghcr.io/a/b:1"}}), "image ghcr.io/a/b:1");
  EXPECT_EQ(
      source_text(json{{"image_ref", "ghcr.io/a/b:1"}, {"image_digest", "sha256:ab"}, {"registry_secret_ref", "s"}}),
      "image ghcr.io/a/b:1 (sha256:ab, registry secret s)");
  EXPECT_EQ(source_text(json{{"command", {"./server", "--port", "0"}}}), "command ./server --port 0");
  EXPECT_EQ(source_text(json{{"endpoints", {"127.0.0.1:1", "127.0.0.1:2"}}}), "endpoints 127.0.0.1:1, 127.0.0.1:2");
  EXPECT_EQ(source_text(json()), "none");
  EXPECT_EQ(source_text(json{{"other", 1}}), R"({"other":1})");
}

TEST(source_text, cells) {
  EXPECT_EQ(cell_text(json()), "-");
  EXPECT_EQ(cell_text(json("x")), "x");
  EXPECT_EQ(cell_text(json(3)), "3");
  EXPECT_EQ(cell_text(json::array()), "-");
  EXPECT_EQ(cell_text(json{1, 2}), "1,2");
}

TEST(source_text, fields_of_anything) {
  EXPECT_EQ(string_at(json{{"a", "x"}}, "a"), "x");
  EXPECT_EQ(string_at(json{{"a", 1}}, "a"), "");
  EXPECT_EQ(string_at(json::array(), "a"), "");
  EXPECT_TRUE(value_at(json(42), "a").is_null());
  EXPECT_EQ(value_at(json{{"a", 1}}, "a"), 1);
}

}  // namespace
}  // namespace ignite::cli
