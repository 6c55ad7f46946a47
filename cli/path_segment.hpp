#pragma once
// Percent-encoding of one URL path segment (RFC 3986): an app id, a secret or token id
// taken from the command line goes into the path as one segment, whatever it contains.

#include <string>
#include <string_view>

namespace ignite::cli {

// Keeps unreserved characters and ':' (ids are "org:name"); every other byte becomes
// %XX, so "/", "?", "#", "%" and spaces cannot change the path the API sees.
std::string encode_path_segment(std::string_view segment);

}  // namespace ignite::cli
