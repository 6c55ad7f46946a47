#include "support/process_table.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ignite::test {

std::optional<process_info> read_process(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // "pid (comm) state ppid …": comm may hold anything, so parse from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  process_info p;
  p.pid = pid;
  rest >> p.state >> p.ppid;
  std::string skipped;
  for (int field = 5; field <= 21; ++field) rest >> skipped;
  rest >> p.start_ticks;  // field 22
  if (!rest) return std::nullopt;
  return p;
}

std::vector<process_info> children_of(pid_t parent) {
  std::vector<process_info> children;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    auto p = read_process(static_cast<pid_t>(std::stol(name)));
    if (p && p->ppid == parent && p->state != 'Z') children.push_back(*p);
  }
  return children;
}

bool is_running(const process_info& p) {
  auto now = read_process(p.pid);
  return now && now->start_ticks == p.start_ticks && now->state != 'Z';
}

bool any_running(const std::vector<process_info>& ps) { return std::any_of(ps.begin(), ps.end(), is_running); }

std::string pids(const std::vector<process_info>& ps) {
  std::string s;
  for (const auto& p : ps) s += std::to_string(p.pid) + (is_running(p) ? "(running) " : "(gone) ");
  return s;
}

}  // namespace ignite::test
