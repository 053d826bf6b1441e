#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace corral {
namespace {

// A file of 5 pages whose byte i is (i * 7 + i / 4096) mod 256, so every page differs.
std::string WritePatternFile(std::vector<uint8_t>* bytes) {
  char path[] = "/tmp/corral-mapped-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  bytes->resize(5 * 4096 + 123);
  for (size_t i = 0; i < bytes->size(); ++i) (*bytes)[i] = static_cast<uint8_t>(i * 7 + i / 4096);
  EXPECT_EQ(write(fd, bytes->data(), bytes->size()), static_cast<ssize_t>(bytes->size()));
  close(fd);
  return path;
}

// CopyOut reads through the descriptor: the same bytes as the mapping, also for ranges whose
// pages were released and for ranges that straddle pages and the file's end.
TEST(MappedFileTest, CopyOutReturnsTheFileBytesAfterRelease) {
  std::vector<uint8_t> want;
  const std::string path = WritePatternFile(&want);
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const uint8_t* base = (*file)->bytes().data();
  (*file)->ReleasePages(base, (*file)->bytes().size());
  for (auto [offset, n] : {std::pair<size_t, size_t>{0, 10},
                           {4090, 20},
                           {8192, 4096},
                           {want.size() - 130, 130},
                           {17, 0}}) {
    std::vector<uint8_t> got(n + 1, 0xEE);
    (*file)->CopyOut(base + offset, n, got.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[offset + i]) << offset << "+" << i;
    EXPECT_EQ(got[n], 0xEE) << "wrote past the range";
  }
  std::remove(path.c_str());
}

TEST(MappedFileDeathTest, CopyOutOutsideTheMappingIsABug) {
  std::vector<uint8_t> want;
  const std::string path = WritePatternFile(&want);
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok());
  std::vector<uint8_t> out(64);
  const uint8_t* end = (*file)->bytes().data() + want.size();
  EXPECT_DEATH((*file)->CopyOut(end - 10, 20, out.data()), "outside the mapping");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace corral
