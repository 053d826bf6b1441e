// Compact containers for a vocabulary's strings and BPE merges. A 150k-token vocabulary held as
// std::string per token plus a std::unordered_map keyed by a second copy of every text costs
// ~25 MB of heap; these keep each byte once, in a few large arrays (no per-token allocation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::tokenizer {

// Strings stored back to back in one buffer: string i is bytes_[ends_[i - 1], ends_[i]) (from 0
// for i = 0). The arena owns its bytes; a view it returns is valid until the next Append (which
// may grow the buffer). 32-bit offsets: all strings together hold at most 4 GiB - 1 bytes.
class StringArena {
 public:
  // Room for `count` more strings of `bytes` bytes in all, so that filling it never reallocates.
  void Reserve(size_t count, size_t bytes);
  // Throws std::length_error past 4 GiB (as a std::string past max_size would).
  void Append(std::string_view s);
  std::string_view operator[](size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  size_t size() const { return ends_.size(); }
  size_t heap_bytes() const { return bytes_.capacity() + ends_.capacity() * sizeof(uint32_t); }

 private:
  std::string bytes_;           // every string's bytes, no separators
  std::vector<uint32_t> ends_;  // one offset into bytes_ per string, ascending
};

// Token texts by id (a StringArena) and the id of a text, through an open-addressing hash table
// (linear probing, at most half full) of ids whose keys are the arena's own texts: no second copy
// of any string, 8 bytes of index per token.
class TokenTextTable {
 public:
  // Sizes the arena and the index for `count` more texts of `bytes` bytes in all.
  void Reserve(size_t count, size_t bytes);
  // Appends `text` as the next id, as std::unordered_map::emplace: {new id, true}, or
  // {existing id, false} (nothing appended) when the text is already there.
  std::pair<int32_t, bool> Insert(std::string_view text);

  int32_t Find(std::string_view text) const;  // -1 when absent
  std::string_view operator[](int32_t id) const { return texts_[static_cast<size_t>(id)]; }
  int32_t size() const { return static_cast<int32_t>(texts_.size()); }
  size_t heap_bytes() const { return texts_.heap_bytes() + slots_.capacity() * sizeof(uint32_t); }

 private:
  // A slot is 0 (empty) or `tag | (id + 1)`: id + 1 in the low id_bits_ bits, and in the bits
  // above, the same bits of the text's hash, so that most probes that miss never touch the
  // arena. The home slot comes from the hash's upper half, independent of the tag.
  size_t Home(uint64_t hash) const { return ((hash >> 32) * slots_.size()) >> 32; }
  uint32_t TagMask() const { return id_bits_ >= 32 ? 0 : ~((uint32_t{1} << id_bits_) - 1); }
  size_t Next(size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
  // Index i of the slot holding `text`, or of the empty slot where it would go.
  size_t Probe(std::string_view text, uint64_t hash) const;
  void Rehash(size_t capacity);

  StringArena texts_;
  std::vector<uint32_t> slots_;  // any size (not a power of two); at most half full
  int id_bits_ = 0;              // bit width of slots_.size(), so every id + 1 fits
};

// BPE merge ranks as a compressed sparse row table: the merges whose left token is L are
// entries_[starts_[L], starts_[L + 1]), sorted by right token and looked up by binary search.
// Two arrays, 4 bytes per token plus 8 per merge.
class MergeTable {
 public:
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t rank;
  };
  // Every id in `merges` must be in [0, n_tokens). Where a pair repeats, the lowest rank wins.
  void Build(int32_t n_tokens, std::vector<Merge> merges);

  int32_t Rank(int32_t left, int32_t right) const;  // -1 when the pair does not merge
  size_t size() const { return entries_.size(); }
  size_t heap_bytes() const {
    return starts_.capacity() * sizeof(uint32_t) + entries_.capacity() * sizeof(Entry);
  }

 private:
  struct Entry {
    int32_t right;
    int32_t rank;
  };
  std::vector<uint32_t> starts_;  // n_tokens + 1 offsets into entries_, or empty: no merges
  std::vector<Entry> entries_;
};

}  // namespace corral::tokenizer
