#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ignite::test {

// HTTP header fields in the order they were received, duplicates kept; names are
// compared case-insensitively, values as they are.
class header_list {
 public:
  using field = std::pair<std::string, std::string>;

  void add(std::string name, std::string value);

  // Value of the first field called `name`, if any.
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> get_all(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return count(name) != 0; }

  // Names (as received) of every field whose lower-cased name starts with `prefix`.
  std::vector<std::string> names_with_prefix(std::string_view prefix) const;

  const std::vector<field>& fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }

  // "Name: value" lines, for failure messages.
  std::string to_string() const;

 private:
  std::vector<field> fields_;
};

// ASCII case-insensitive comparison, as HTTP field names need.
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

}  // namespace ignite::test
