#include "support/header_list.hpp"

#include <algorithm>

namespace ignite::test {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

void header_list::add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string> header_list::get(std::string_view name) const {
  for (const auto& [n, v] : fields_)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

std::vector<std::string> header_list::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields_)
    if (iequals(n, name)) out.push_back(v);
  return out;
}

std::size_t header_list::count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(fields_.begin(), fields_.end(), [&](const field& f) { return iequals(f.first, name); }));
}

std::vector<std::string> header_list::names_with_prefix(std::string_view prefix) const {
  const std::string low_prefix = to_lower(prefix);
  std::vector<std::string> out;
  for (const auto& [n, v] : fields_)
    if (to_lower(n).starts_with(low_prefix)) out.push_back(n);
  return out;
}

std::string header_list::to_string() const {
  std::string out;
  for (const auto& [n, v] : fields_) out += n + ": " + v + "\n";
  return out;
}

}  // namespace ignite::test
