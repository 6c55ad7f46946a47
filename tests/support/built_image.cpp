#include "support/built_image.hpp"

#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>

#include "support/container_engine.hpp"

namespace ignite::test {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The build context: a temp dir removed when the build is over, whatever its outcome.
class context_dir {
 public:
  explicit context_dir(const std::vector<built_image::context_file>& files) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-image-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "built_image: mkdtemp");
    path_ = tmpl;
    for (const auto& f : files) std::filesystem::copy_file(f.source, path_ / f.name);
  }
  ~context_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

built_image::built_image(std::string ref, const std::filesystem::path& containerfile,
                         const std::vector<context_file>& files)
    : ref_(std::move(ref)) {
  if (podman_path().empty()) throw std::runtime_error("podman is not installed");
  const context_dir context(files);
  const auto built =
      run_podman({"build", "--quiet", "--layers=false", "--label", "ignite.test.instance=" + unique_test_name("image"),
                  "-t", ref_, "-f", containerfile.string(), context.path().string()},
                 std::chrono::minutes(5));
  if (built.exit_code != 0)
    throw std::runtime_error("podman cannot build an image: " +
                             trimmed(built.timed_out ? "no answer within 5 minutes" : built.err + built.out));
  // --quiet prints the id alone on the last line.
  const auto out = trimmed(built.out);
  id_ = out.substr(out.rfind('\n') + 1);
}

built_image::~built_image() {
  // By id, so that every tag and digest name goes with it (a name alone would only untag).
  try {
    run_podman({"rmi", "--force", id_}, std::chrono::minutes(1));
  } catch (const std::exception&) {
    // Out of pipes or processes: nothing a destructor can do about it.
  }
}

}  // namespace ignite::test
