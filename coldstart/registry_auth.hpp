#pragma once
// Registry credentials on their way to podman and skopeo: written to an auth file (the
// containers-auth.json format) that only root can read, named with --authfile, and
// removed as soon as the pull is over. They never appear on a command line.

#include <filesystem>
#include <string>

namespace ignite::coldstart {

// A registry secret, unsealed.
struct registry_credentials {
  std::string server;  // "ghcr.io", "127.0.0.1:5000"
  std::string username;
  std::string password;
};

class auth_file {
 public:
  // Writes `credentials` to a new file in `dir` (created 0700 if missing), mode 0600.
  // Throws std::runtime_error if it cannot.
  auth_file(const std::filesystem::path& dir, const registry_credentials& credentials);
  ~auth_file();  // removes the file
  auth_file(const auth_file&) = delete;
  auth_file& operator=(const auth_file&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ignite::coldstart
