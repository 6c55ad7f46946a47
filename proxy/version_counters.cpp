#include "proxy/version_counters.hpp"

#include <algorithm>

namespace ignite::proxy {

namespace {

constexpr std::size_t k_other_slot = version_counters::k_code_slots - 1;

// status → slot, for every status a parser accepts (three digits).
constexpr auto k_slot_of = [] {
  std::array<unsigned char, 1000> table{};
  for (unsigned s = 0; s < table.size(); ++s) {
    unsigned char slot = k_other_slot;
    if (s >= 100 && s < 600) slot = static_cast<unsigned char>(version_counters::k_codes.size() + s / 100 - 1);
    for (std::size_t i = 0; i < version_counters::k_codes.size(); ++i)
      if (version_counters::k_codes[i] == s) slot = static_cast<unsigned char>(i);
    table[s] = slot;
  }
  return table;
}();

const std::array<std::string, version_counters::k_code_slots>& code_labels() {
  static const auto labels = [] {
    std::array<std::string, version_counters::k_code_slots> out;
    for (std::size_t i = 0; i < version_counters::k_codes.size(); ++i)
      out[i] = std::to_string(version_counters::k_codes[i]);
    for (unsigned c = 1; c <= 5; ++c) out[version_counters::k_codes.size() + c - 1] = std::to_string(c) + "xx";
    out[k_other_slot] = "other";
    return out;
  }();
  return labels;
}

}  // namespace

std::size_t version_counters::code_slot(unsigned status) noexcept {
  return status < k_slot_of.size() ? k_slot_of[status] : k_other_slot;
}

std::string_view version_counters::code_label(std::size_t slot) noexcept { return code_labels()[slot]; }

std::string_view version_counters::outcome_label(std::size_t outcome) noexcept {
  static constexpr std::array<std::string_view, k_start_outcomes> labels = {"ready", "failed", "abandoned"};
  return labels[outcome];
}

version_counters::version_counters(std::string app_id, std::string version, std::size_t writers)
    : app_id_(std::move(app_id)),
      version_(std::move(version)),
      writers_(writers),
      slices_(std::make_unique<std::atomic<slice*>[]>(writers)) {
  for (std::size_t i = 0; i < writers_; ++i) slices_[i].store(nullptr, std::memory_order_relaxed);
}

version_counters::~version_counters() {
  for (std::size_t i = 0; i < writers_; ++i) delete slices_[i].load(std::memory_order_acquire);
}

// Allocated on the writer's first request, not with the block: a proxy with thousands
// of idle apps keeps no counters for threads that never served them.
version_counters::slice& version_counters::of(std::size_t writer) {
  auto* s = slices_[writer].load(std::memory_order_relaxed);
  if (!s) [[unlikely]] {
    s = new slice;
    slices_[writer].store(s, std::memory_order_release);
  }
  return *s;
}

void version_counters::pod_note(const coldstart::pod_note& note) {
  using kind = coldstart::pod_note::kind;
  std::lock_guard lock(starting_mutex_);
  auto it = std::find(starting_.begin(), starting_.end(), note.pod);
  const bool was_starting = it != starting_.end();
  switch (note.what) {
    case kind::starting:
      if (!was_starting) starting_.push_back(note.pod);
      return;
    case kind::ready:
      if (!was_starting) return;
      starts_[static_cast<std::size_t>(start_outcome::ready)].fetch_add(1, std::memory_order_relaxed);
      if (note.start_ms >= 0) start_duration_.add(std::chrono::milliseconds(note.start_ms));
      break;
    case kind::stopping:
      // Stopped before it listened: nobody waited any more, or the version went away.
      if (!was_starting) return;
      starts_[static_cast<std::size_t>(start_outcome::abandoned)].fetch_add(1, std::memory_order_relaxed);
      break;
    case kind::exited:
      if (!was_starting) return;
      starts_[static_cast<std::size_t>(start_outcome::failed)].fetch_add(1, std::memory_order_relaxed);
      break;
  }
  starting_.erase(it);
}

version_counters::totals version_counters::read() const {
  totals t;
  for (std::size_t i = 0; i < writers_; ++i) {
    const auto* s = slices_[i].load(std::memory_order_acquire);
    if (!s) continue;
    for (std::size_t c = 0; c < k_code_slots; ++c) t.requests[c] += s->requests[c].load(std::memory_order_relaxed);
    t.request.add(s->request);
    t.upstream.add(s->upstream);
  }
  for (std::size_t o = 0; o < k_start_outcomes; ++o) t.starts[o] = starts_[o].load(std::memory_order_relaxed);
  t.start_duration.add(start_duration_);
  return t;
}

}  // namespace ignite::proxy
