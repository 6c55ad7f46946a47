// deadline_heap: the parking lot's one timer waits for its top, so the top must always be
// the earliest deadline, through pushes, erasures from the middle and deadlines moved
// earlier. Checked against std::multimap over many random operations.
#include "proxy/deadline_heap.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace ignite::proxy {
namespace {

using time_point = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

struct item {
  std::uint32_t index = ~std::uint32_t{0};
  time_point at;
};
using heap = deadline_heap<item, &item::index>;

TEST(deadline_heap, the_top_is_the_earliest_deadline_whatever_order_they_came_in) {
  heap h;
  item a, b, c;
  h.push(a, time_point(milliseconds(30)));
  h.push(b, time_point(milliseconds(10)));
  h.push(c, time_point(milliseconds(20)));
  EXPECT_EQ(&h.top(), &b);
  h.erase(b);
  EXPECT_FALSE(heap::contains(b));
  EXPECT_EQ(&h.top(), &c);
  h.move_earlier(a, time_point(milliseconds(5)));
  EXPECT_EQ(&h.top(), &a);
  EXPECT_EQ(h.top_at(), time_point(milliseconds(5)));
}

TEST(deadline_heap, stays_ordered_through_random_pushes_erasures_and_earlier_deadlines) {
  std::mt19937 random(7);
  std::vector<std::unique_ptr<item>> items;
  std::multimap<time_point, item*> expected;
  heap h;
  auto forget = [&](item* it) {
    for (auto [i, end] = expected.equal_range(it->at); i != end; ++i)
      if (i->second == it) return void(expected.erase(i));
    FAIL() << "not in the reference";
  };
  for (int step = 0; step < 20000; ++step) {
    const auto op = random() % 4;
    if (op <= 1 || items.empty()) {
      auto it = std::make_unique<item>();
      it->at = time_point(milliseconds(random() % 1000));  // ties on purpose
      h.push(*it, it->at);
      expected.emplace(it->at, it.get());
      items.push_back(std::move(it));
    } else {
      const auto k = random() % items.size();
      item* it = items[k].get();
      if (op == 2) {
        forget(it);
        h.erase(*it);
        ASSERT_FALSE(heap::contains(*it));
        items[k] = std::move(items.back());
        items.pop_back();
      } else {
        forget(it);
        it->at -= milliseconds(random() % 500);
        h.move_earlier(*it, it->at);
        expected.emplace(it->at, it);
      }
    }
    ASSERT_EQ(h.size(), expected.size());
    if (!expected.empty()) {
      ASSERT_EQ(h.top_at(), expected.begin()->first) << "at step " << step;
    }
  }
  // Drained in order.
  time_point last = time_point::min();
  while (!h.empty()) {
    ASSERT_GE(h.top_at(), last);
    last = h.top_at();
    h.erase(h.top());
  }
}

}  // namespace
}  // namespace ignite::proxy
