#pragma once
// Fixed-size memory blocks for one thread, reused last-in first-out: what the request
// path needs per request (its exchange, a relay buffer) comes from here instead of the
// heap, and at most `keep` spare blocks are held when the load drops.

#include <cstddef>
#include <new>
#include <vector>

namespace ignite::proxy {

class block_recycler {
 public:
  block_recycler(std::size_t block_size, std::size_t keep) : block_size_(block_size), keep_(keep) {}
  ~block_recycler() {
    for (void* p : spare_) ::operator delete(p, k_align);
  }
  block_recycler(const block_recycler&) = delete;
  block_recycler& operator=(const block_recycler&) = delete;

  // A block of block_size() bytes, aligned for any fundamental type.
  void* take() {
    if (spare_.empty()) return ::operator new(block_size_, k_align);
    void* p = spare_.back();
    spare_.pop_back();
    return p;
  }
  void give(void* p) noexcept {
    if (spare_.size() < keep_) {
      try {
        spare_.push_back(p);
        return;
      } catch (...) {
      }
    }
    ::operator delete(p, k_align);
  }
  std::size_t block_size() const noexcept { return block_size_; }

 private:
  static constexpr std::align_val_t k_align{alignof(std::max_align_t)};
  std::size_t block_size_;
  std::size_t keep_;
  std::vector<void*> spare_;
};

}  // namespace ignite::proxy
