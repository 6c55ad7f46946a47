#pragma once
// Where a command's argv[0] runs from, as execve would need it: a path is used as given
// (relative to the working directory), a bare name is looked up in PATH. It must be a
// regular file with an execute bit: root may "access" any file and any directory.

#include <string>
#include <string_view>

namespace ignite::common {

// The executable's path, or empty with `why` set ("not found in PATH", "is a directory").
std::string find_executable(std::string_view name, std::string& why);

}  // namespace ignite::common
