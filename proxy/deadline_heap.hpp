#pragma once
// A min-heap of deadlines over objects that know their place in it (`Index`, a member
// pointer), so that one can leave or move earlier in O(log n) without a search. One
// timer serves all of them: it waits for top(). The parking lot keeps its idle
// connections in one (parking_lot.hpp).
#include <chrono>
#include <cstdint>
#include <vector>

namespace ignite::proxy {

template <class T, std::uint32_t T::*Index>
class deadline_heap {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr std::uint32_t k_absent = ~std::uint32_t{0};

  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  static bool contains(const T& t) noexcept { return t.*Index != k_absent; }
  // The earliest entry. Not empty.
  time_point top_at() const noexcept { return heap_.front().at; }
  T& top() const noexcept { return *heap_.front().who; }

  // `t` is in the heap.
  time_point at(const T& t) const noexcept { return heap_[t.*Index].at; }

  // `t` is not in the heap.
  void push(T& t, time_point at) {
    heap_.push_back({at, &t});
    sift_up(heap_.size() - 1);
  }

  // `t` is in the heap; afterwards it is not.
  void erase(T& t) noexcept {
    const std::size_t i = t.*Index;
    t.*Index = k_absent;
    const auto last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    sift_up(i);
    sift_down(last.who->*Index);
  }

  // `t` is in the heap, and `at` is no later than its deadline.
  void move_earlier(T& t, time_point at) noexcept {
    heap_[t.*Index].at = at;
    sift_up(t.*Index);
  }

 private:
  struct entry {
    time_point at;
    T* who;
  };

  void place(std::size_t i, entry e) noexcept {
    heap_[i] = e;
    e.who->*Index = static_cast<std::uint32_t>(i);
  }

  void sift_up(std::size_t i) noexcept {
    const auto e = heap_[i];
    while (i > 0) {
      const auto parent = (i - 1) / 2;
      if (heap_[parent].at <= e.at) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, e);
  }

  void sift_down(std::size_t i) noexcept {
    const auto e = heap_[i];
    const auto n = heap_.size();
    for (;;) {
      auto child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child + 1].at < heap_[child].at) ++child;
      if (e.at <= heap_[child].at) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, e);
  }

  std::vector<entry> heap_;
};

}  // namespace ignite::proxy
