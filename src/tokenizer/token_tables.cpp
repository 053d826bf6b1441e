#include "tokenizer/token_tables.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace corral::tokenizer {

void StringArena::Reserve(size_t count, size_t bytes) {
  ends_.reserve(ends_.size() + count);
  bytes_.reserve(bytes_.size() + bytes);
}

void StringArena::Append(std::string_view s) {
  if (s.size() > std::numeric_limits<uint32_t>::max() - bytes_.size()) {
    throw std::length_error("StringArena holds at most 4 GiB");
  }
  bytes_.append(s);
  ends_.push_back(static_cast<uint32_t>(bytes_.size()));
}

namespace {

uint64_t HashText(std::string_view text) { return std::hash<std::string_view>{}(text); }

}  // namespace

void TokenTextTable::Reserve(size_t count, size_t bytes) {
  texts_.Reserve(count, bytes);
  const size_t total = texts_.size() + count;
  if (total * 2 > slots_.size()) Rehash(total * 2);
}

size_t TokenTextTable::Probe(std::string_view text, uint64_t hash) const {
  const uint32_t tag = static_cast<uint32_t>(hash) & TagMask();
  size_t i = Home(hash);
  for (; slots_[i] != 0; i = Next(i)) {
    if ((slots_[i] & TagMask()) == tag) {
      const uint32_t id = (slots_[i] & ~TagMask()) - 1;
      if (texts_[id] == text) break;
    }
  }
  return i;
}

void TokenTextTable::Rehash(size_t capacity) {
  slots_.assign(capacity, 0);
  id_bits_ = std::bit_width(capacity);
  // Tags are cut from the hashes by id_bits_, so the texts are hashed again.
  for (size_t id = 0; id < texts_.size(); ++id) {
    const uint64_t hash = HashText(texts_[id]);
    size_t i = Home(hash);
    while (slots_[i] != 0) i = Next(i);
    slots_[i] = (static_cast<uint32_t>(hash) & TagMask()) | static_cast<uint32_t>(id + 1);
  }
}

std::pair<int32_t, bool> TokenTextTable::Insert(std::string_view text) {
  if ((texts_.size() + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, slots_.size() * 2));
  const uint64_t hash = HashText(text);
  const size_t i = Probe(text, hash);
  if (slots_[i] != 0) return {static_cast<int32_t>((slots_[i] & ~TagMask()) - 1), false};
  const size_t id = texts_.size();
  texts_.Append(text);
  slots_[i] = (static_cast<uint32_t>(hash) & TagMask()) | static_cast<uint32_t>(id + 1);
  return {static_cast<int32_t>(id), true};
}

int32_t TokenTextTable::Find(std::string_view text) const {
  if (slots_.empty()) return -1;
  const uint32_t slot = slots_[Probe(text, HashText(text))];
  return slot == 0 ? -1 : static_cast<int32_t>((slot & ~TagMask()) - 1);
}

void MergeTable::Build(int32_t n_tokens, std::vector<Merge> merges) {
  starts_.clear();
  entries_.clear();
  if (merges.empty()) return;
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tie(a.left, a.right, a.rank) < std::tie(b.left, b.right, b.rank);
  });
  // Lowest rank first within a pair, so keeping the first of each run keeps the winner.
  merges.erase(std::unique(merges.begin(), merges.end(),
                           [](const Merge& a, const Merge& b) {
                             return a.left == b.left && a.right == b.right;
                           }),
               merges.end());
  starts_.assign(static_cast<size_t>(n_tokens) + 1, 0);
  entries_.reserve(merges.size());
  for (const Merge& m : merges) {
    ++starts_[static_cast<size_t>(m.left) + 1];
    entries_.push_back({m.right, m.rank});
  }
  for (size_t i = 1; i < starts_.size(); ++i) starts_[i] += starts_[i - 1];
}

int32_t MergeTable::Rank(int32_t left, int32_t right) const {
  if (left < 0 || static_cast<size_t>(left) + 1 >= starts_.size()) return -1;
  const Entry* begin = entries_.data() + starts_[static_cast<size_t>(left)];
  const Entry* end = entries_.data() + starts_[static_cast<size_t>(left) + 1];
  const Entry* it =
      std::lower_bound(begin, end, right, [](const Entry& e, int32_t r) { return e.right < r; });
  return it != end && it->right == right ? it->rank : -1;
}

}  // namespace corral::tokenizer
