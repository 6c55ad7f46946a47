#pragma once
// An allocator that takes exactly the bytes asked for from the heap. Bound to the
// handlers of long waits (a parked connection's read wait and its watchdog), so that
// Asio's per-thread recycling allocator, which hands out any cached block that is big
// enough, does not pin a coroutine-frame-sized block to an idle connection for as long
// as it stays idle.

#include <cstddef>
#include <memory>

namespace ignite::proxy {

template <class T>
struct exact_allocator {
  using value_type = T;
  exact_allocator() noexcept = default;
  template <class U>
  exact_allocator(const exact_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  template <class U>
  bool operator==(const exact_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace ignite::proxy
