#pragma once
// A container image reference, as `docker pull` and podman take it, checked for shape:
//   registry/repository[:tag][@sha256:<64 hex>]
// The registry is required (a fully-qualified reference: which registry an image comes
// from is never guessed), and so is a tag or a digest. Pure: no registry is asked here.

#include <optional>
#include <string>
#include <string_view>

namespace ignite::routing {

struct image_ref {
  std::string registry;    // "ghcr.io", "localhost:5000"
  std::string repository;  // "acme-corp/greeter"
  std::string tag;         // "1.0.0"; may be empty when a digest is given
  std::string digest;      // "sha256:…" or empty

  // registry/repository:tag (or @digest when there is no tag).
  std::string to_string() const;
  // registry/repository@digest: what a published version runs. Needs a digest.
  std::string pinned() const;
};

// Parses `text`; on failure returns nullopt and sets `why` ("needs a tag or a digest").
std::optional<image_ref> parse_image_ref(std::string_view text, std::string& why);

}  // namespace ignite::routing
