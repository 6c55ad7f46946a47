#pragma once
// An answer the control API gives instead of a result: {"error":{"code","message"}} with
// an HTTP status (DESIGN.md, "Control API").

#include <stdexcept>
#include <string>

namespace ignite::admin {

class api_error : public std::runtime_error {
 public:
  api_error(unsigned status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  unsigned status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }

 private:
  unsigned status_;
  std::string code_;
};

}  // namespace ignite::admin
