#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "support/container_engine.hpp"
#include "support/program.hpp"

namespace ignite::test {

// A real private registry for a test: Debian's docker-registry (the distribution v2
// registry) as a child process on 127.0.0.1 and a port of its own, plain HTTP, htpasswd
// basic auth for one user with a fresh random password, storage in a private temp dir.
// The child dies with the test process (PR_SET_PDEATHSIG, sent when the thread that
// constructed this object ends); the destructor stops it and removes the dir.
//
// Pushes and pulls go through podman/skopeo with --tls-verify=false (plain HTTP to a
// loopback registry) and the auth file written here, never credentials on a command line.
class private_registry {
 public:
  // Starts the registry and returns once `GET /v2/` answers 401 with this registry's
  // realm (capped). Retries with another port if the one picked was taken meanwhile.
  // Throws std::runtime_error, with the registry's output, if it cannot be started.
  private_registry();
  ~private_registry();
  private_registry(const private_registry&) = delete;
  private_registry& operator=(const private_registry&) = delete;

  // Empty if the programs this class (and a test using it) need are installed, otherwise
  // which one is missing: docker-registry, htpasswd (apache2-utils), skopeo, podman.
  static std::string missing_tools();

  // "127.0.0.1:PORT": the registry part of an image reference.
  const std::string& host() const { return host_; }
  const std::string& username() const { return username_; }
  const std::string& password() const { return password_; }
  // {"auths":{"<host>":{"auth":"<base64(user:password)>"}}}, mode 0600: for podman's and
  // skopeo's --authfile.
  const std::filesystem::path& authfile() const { return authfile_; }
  // "<host>/<repo_tag>"; `repo_tag` is "repo:tag" or "repo@sha256:…".
  std::string reference(const std::string& repo_tag) const;

  // Pushes `local_image_ref` as reference(repo_tag) with the auth file (the local store
  // gains no new name) and returns the manifest digest the registry stores ("sha256:…",
  // from podman's --digestfile; skopeo reports the same). Throws std::runtime_error with
  // podman's error if the push fails.
  std::string push(const std::string& local_image_ref, const std::string& repo_tag);

  // `skopeo inspect docker://<reference(repo_tag)>`, with the auth file when
  // `authenticated`, else with no credentials at all (--no-creds). Its stdout is the
  // image's JSON ("Digest", "Labels", …) when it succeeds.
  program_result inspect(const std::string& repo_tag, bool authenticated) const;

  // Everything the registry has written so far (its log), for failure messages.
  std::string output() const;

 private:
  // One attempt on one port; false if the port turned out to be taken.
  bool start_on(std::uint16_t port);
  bool answers_with_our_realm() const;
  bool reap_if_exited();
  void stop();

  std::filesystem::path dir_;
  std::filesystem::path config_path_;
  std::filesystem::path log_path_;
  std::filesystem::path authfile_;
  std::string realm_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::string username_ = "ignite";
  std::string password_;
  std::string secret_;
  pid_t pid_ = -1;
  bool exited_ = false;
  unsigned pushes_ = 0;
};

}  // namespace ignite::test
