// Unit tests of the compact vocabulary containers (named VocabTables* so that the tokenizer test
// filters pick them up).
#include "tokenizer/token_tables.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::tokenizer {
namespace {

TEST(VocabTablesTest, ArenaKeepsEmptyAndBinaryStrings) {
  StringArena arena;
  arena.Reserve(3, 4);
  arena.Append("ab");
  arena.Append("");
  arena.Append(std::string_view("\0z", 2));
  ASSERT_EQ(arena.size(), 3u);
  EXPECT_EQ(arena[0], "ab");
  EXPECT_EQ(arena[1], "");
  EXPECT_EQ(arena[2], std::string_view("\0z", 2));
}

TEST(VocabTablesTest, TextTableFindsEveryTextAndRejectsDuplicates) {
  TokenTextTable table;
  EXPECT_EQ(table.Find("a"), -1);  // nothing reserved yet
  // Without Reserve the index grows as it goes; every text stays findable across rehashes.
  for (int i = 0; i < 5000; ++i) {
    auto [id, inserted] = table.Insert("t" + std::to_string(i));
    ASSERT_TRUE(inserted);
    ASSERT_EQ(id, i);
  }
  auto [id, inserted] = table.Insert("t1234");
  EXPECT_FALSE(inserted);
  EXPECT_EQ(id, 1234);
  EXPECT_EQ(table.size(), 5000);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(table.Find("t" + std::to_string(i)), i);
    ASSERT_EQ(table[i], "t" + std::to_string(i));
  }
  EXPECT_EQ(table.Find("t5000"), -1);
  EXPECT_EQ(table.Find(""), -1);
  EXPECT_EQ(table.Find("t12345"), -1);
}

TEST(VocabTablesTest, ReservedTextTableMatchesExactBytes) {
  TokenTextTable table;
  table.Reserve(4, 8);
  EXPECT_TRUE(table.Insert("a").second);
  EXPECT_TRUE(table.Insert("ab").second);
  EXPECT_TRUE(table.Insert(std::string_view("a\0", 2)).second);  // not a prefix match of "a"
  EXPECT_TRUE(table.Insert("").second);
  EXPECT_EQ(table.Find(std::string_view("a\0", 2)), 2);
  EXPECT_EQ(table.Find(""), 3);
  EXPECT_EQ(table.Find("b"), -1);
}

TEST(VocabTablesTest, MergeTableKeepsLowestRankOfARepeatedPair) {
  MergeTable merges;
  EXPECT_EQ(merges.Rank(0, 1), -1);  // empty
  merges.Build(6, {{2, 3, 0}, {0, 5, 1}, {2, 1, 2}, {2, 3, 3}, {5, 5, 4}, {0, 0, 5}});
  EXPECT_EQ(merges.size(), 5u);
  EXPECT_EQ(merges.Rank(2, 3), 0);
  EXPECT_EQ(merges.Rank(0, 5), 1);
  EXPECT_EQ(merges.Rank(2, 1), 2);
  EXPECT_EQ(merges.Rank(5, 5), 4);
  EXPECT_EQ(merges.Rank(0, 0), 5);
  EXPECT_EQ(merges.Rank(3, 2), -1);
  EXPECT_EQ(merges.Rank(1, 0), -1);
  EXPECT_EQ(merges.Rank(2, 2), -1);
  EXPECT_EQ(merges.Rank(-1, 0), -1);
  EXPECT_EQ(merges.Rank(6, 0), -1);
}

}  // namespace
}  // namespace corral::tokenizer
