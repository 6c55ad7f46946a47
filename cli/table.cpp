#include "cli/table.hpp"

#include <algorithm>
#include <ostream>

namespace ignite::cli {

table::table(std::vector<std::string> headings) : headings_(std::move(headings)) {}

void table::add_row(std::vector<std::string> cells) {
  cells.resize(headings_.size());
  rows_.push_back(std::move(cells));
}

void table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(headings_.size());
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(headings_);
  for (const auto& row : rows_) measure(row);

  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (std::size_t i = 0; i < row.size(); ++i) {
      text += row[i];
      if (i + 1 < row.size()) text.append(widths[i] - row[i].size() + 2, ' ');
    }
    // The last column is not padded, so no line ends in spaces.
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
  };
  line(headings_);
  for (const auto& row : rows_) line(row);
}

}  // namespace ignite::cli
