#pragma once
// The pods of one app version and the choice of where the next request goes.
// Shared by all worker threads; picking is lock-free (relaxed atomics per endpoint).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "coldstart/endpoint.hpp"

namespace ignite::coldstart {

class version_pool {
 public:
  // `addresses` are "host:port" strings already validated by the config parser.
  explicit version_pool(const std::vector<std::string>& addresses);

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The index of the reachable endpoint with the fewest requests in flight, or npos
  // when every endpoint is parked as down at `now_ms`. Ties go to the first endpoint at
  // or after `hint` (mod size), so equal loads rotate.
  std::size_t pick(std::int64_t now_ms, std::size_t hint = 0) const noexcept;

  const std::vector<std::unique_ptr<endpoint>>& endpoints() const noexcept { return endpoints_; }

 private:
  std::vector<std::unique_ptr<endpoint>> endpoints_;
};

}  // namespace ignite::coldstart
