// ignite: the command-line client of the control API. Everything is in cli::run().

#include <iostream>

#include "cli/command_line.hpp"

int main(int argc, char** argv) {
  return ignite::cli::run({argv + 1, argv + argc}, std::cin, std::cout, std::cerr,
                          ignite::cli::environment::from_process());
}
