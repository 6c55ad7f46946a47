#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ignite::test {

// An image built with podman for the tests of one process, and removed with everything
// that names it (tags, pulls by digest) when this object goes. The build context is a
// private temp dir holding only the given files; the image carries a label unique to this
// object, so its id is never shared with an image another test process built.
class built_image {
 public:
  struct context_file {
    std::filesystem::path source;
    std::string name;  // its name in the context, as the Containerfile COPYs it
  };

  // `podman build --layers=false -t <ref> -f <containerfile> <context>`: one layer, no
  // intermediate images left behind. Throws std::runtime_error: "podman is not installed",
  // or "podman cannot build an image: <podman's error>".
  built_image(std::string ref, const std::filesystem::path& containerfile, const std::vector<context_file>& files);
  // podman rmi --force <id>: every name of the image, and any container still using it.
  ~built_image();
  built_image(const built_image&) = delete;
  built_image& operator=(const built_image&) = delete;

  // The local name it was built as ("localhost/…:tag").
  const std::string& ref() const { return ref_; }
  // The image id (64 hex digits, no "sha256:"), as podman prints it.
  const std::string& id() const { return id_; }

 private:
  std::string ref_;
  std::string id_;
};

}  // namespace ignite::test
