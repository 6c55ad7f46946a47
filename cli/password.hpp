#pragma once
// Reading a password without showing it: from a terminal with echo off, or from a pipe.

#include <iosfwd>
#include <string>
#include <string_view>

namespace ignite::cli {

// Writes `prompt` to `err`, turns the terminal's echo off on stdin (termios), reads one
// line from `in`, and restores the terminal whatever happens. Precondition: stdin is a
// terminal and `in` reads it.
std::string read_password_from_terminal(std::istream& in, std::ostream& err, std::string_view prompt);

// All of `in`, without its trailing line breaks (`echo "$TOKEN" | … --password-stdin`).
std::string read_password_from_stream(std::istream& in);

}  // namespace ignite::cli
