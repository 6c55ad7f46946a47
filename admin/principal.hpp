#pragma once
// Who a control API request comes from.

#include <string>

namespace ignite::admin {

// The operator (every org), or an org token (its org only).
struct principal {
  bool is_operator = false;
  std::string org;       // org tokens
  std::string token_id;  // org tokens
};

}  // namespace ignite::admin
