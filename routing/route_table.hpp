#pragma once
// The immutable map from host label to app and active version. Built once per config
// load, shared as `std::shared_ptr<const route_table>`, never modified: a reload builds a
// new table and swaps the pointer, and a request keeps the table it started with.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/strings.hpp"
#include "routing/config.hpp"

namespace ignite::routing {

struct version_route {
  const app_spec* app = nullptr;  // owner, in the same table
  const version_spec* spec = nullptr;
  std::string version_text;  // "3", precomputed for x-ignite-version
  std::size_t slot = 0;      // dense index over all versions of the table
};

struct app_route {
  app_spec spec;
  std::string id;  // "acme-corp:greeter"
  std::vector<version_route> versions;
  const version_route* active = nullptr;
};

class route_table {
 public:
  // Copies what it needs from `cfg`; validation already happened in parse_config.
  explicit route_table(const config& cfg);
  route_table(const route_table&) = delete;
  route_table& operator=(const route_table&) = delete;

  // The app whose label is `label` (lowercase), or nullptr.
  const app_route* find(std::string_view label) const;

  const std::string& domain() const noexcept { return domain_; }
  std::size_t version_count() const noexcept { return version_count_; }
  const std::vector<std::unique_ptr<app_route>>& apps() const noexcept { return apps_; }

 private:
  std::string domain_;
  std::vector<std::unique_ptr<app_route>> apps_;  // stable addresses for version_route::app
  std::unordered_map<std::string, const app_route*, common::string_hash, std::equal_to<>> by_label_;
  std::size_t version_count_ = 0;
};

}  // namespace ignite::routing
