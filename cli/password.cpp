#include "cli/password.hpp"

#include <termios.h>
#include <unistd.h>

#include <istream>
#include <iterator>
#include <ostream>

namespace ignite::cli {

namespace {

// Echo off for its lifetime; the terminal's settings come back on every exit path.
class echo_off {
 public:
  echo_off() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the newline the user types still shows, so the prompt ends
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~echo_off() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  echo_off(const echo_off&) = delete;
  echo_off& operator=(const echo_off&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

void trim_line_breaks(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
}

}  // namespace

std::string read_password_from_terminal(std::istream& in, std::ostream& err, std::string_view prompt) {
  std::string line;
  {
    // Echo off before the prompt, as getpass() does: what is typed after the prompt
    // appears is never shown.
    echo_off guard;
    err << prompt << std::flush;
    std::getline(in, line);
  }
  trim_line_breaks(line);
  return line;
}

std::string read_password_from_stream(std::istream& in) {
  std::string text(std::istreambuf_iterator<char>(in), {});
  trim_line_breaks(text);
  return text;
}

}  // namespace ignite::cli
