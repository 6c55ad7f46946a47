#pragma once
// A plain-text table for list commands: a heading row, then one row per item, columns
// left-aligned and two spaces apart, like `kubectl get`.

#include <iosfwd>
#include <string>
#include <vector>

namespace ignite::cli {

class table {
 public:
  explicit table(std::vector<std::string> headings);

  // A row with as many cells as there are headings (missing cells print empty).
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headings_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace ignite::cli
