// One regression test per corruption class the reader guards against: each hostile file gets a
// Status that names the problem; none crashes, hangs or allocates beyond the file's size.
#include <gtest/gtest.h>

#include <random>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_test_util.h"
#include "gguf/gguf_writer.h"

namespace corral::gguf {
namespace {

using testing::RawGguf;

std::string ParseError(const std::vector<uint8_t>& bytes) {
  auto f = GgufFile::Parse(bytes);
  if (f.ok()) return "parsed";
  return f.status().message();
}

// A valid file with a bit of everything, to mutate.
std::vector<uint8_t> ValidFile() {
  GgufWriter w;
  EXPECT_TRUE(w.Set("general.architecture", MetaValue::String("llama")).ok());
  EXPECT_TRUE(w.Set("tokens", MetaValue::StringArray({"a", "bb", "ccc"})).ok());
  EXPECT_TRUE(
      w.Set("nested", MetaValue::Array(ValueType::kArray, {MetaValue::F32Array({1, 2})})).ok());
  // The writer reads tensor data during WriteToBuffer, so the buffers outlive it.
  std::vector<uint8_t> data(2 * 34), bias(12);
  EXPECT_TRUE(w.AddTensor("w", GgmlType::kQ8_0, {32, 2}, data).ok());
  EXPECT_TRUE(w.AddTensor("b", GgmlType::kF32, {3}, bias).ok());
  return *w.WriteToBuffer();
}

TEST(GgufCorruptionTest, ValidFileParses) { EXPECT_EQ(ParseError(ValidFile()), "parsed"); }

TEST(GgufCorruptionTest, TooShortOrWrongMagic) {
  EXPECT_EQ(ParseError({}), "not a GGUF file: it is only 0 bytes long");
  EXPECT_EQ(ParseError({'G', 'G'}), "not a GGUF file: it is only 2 bytes long");
  EXPECT_EQ(ParseError({'G', 'G', 'M', 'L', 0, 0, 0, 0}),
            "not a GGUF file: the magic is 'GGML', expected 'GGUF'");
  EXPECT_NE(ParseError({'G', 'G', 'U', 'F', 3}).find("file is truncated: version"),
            std::string::npos);
}

TEST(GgufCorruptionTest, Versions) {
  EXPECT_EQ(ParseError(RawGguf().Header(1, 0, 0).bytes()),
            "GGUF version 1 is not supported (use v2 or v3)");
  EXPECT_EQ(ParseError(RawGguf().Header(4, 0, 0).bytes()),
            "unknown GGUF version 4 (supported: 2, 3)");
  EXPECT_NE(ParseError(RawGguf().Header(3u << 24, 0, 0).bytes()).find("big-endian"),
            std::string::npos);
  EXPECT_EQ(ParseError(RawGguf().Header(2, 0, 0).bytes()), "parsed");
}

TEST(GgufCorruptionTest, CountsLargerThanTheFile) {
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1ull << 40).bytes()),
            "the header declares 1099511627776 metadata entries, more than the file's 0 remaining "
            "bytes can hold");
  EXPECT_EQ(ParseError(RawGguf().Header(3, ~0ull, 0).bytes()),
            "the header declares 18446744073709551615 tensors, more than the file's 0 remaining "
            "bytes can hold");
}

TEST(GgufCorruptionTest, StringLengths) {
  EXPECT_EQ(
      ParseError(RawGguf().Header(3, 0, 1).U64(1ull << 31).Bytes(16).bytes()),
      "the key of metadata entry 0 declares a length of 2147483648 bytes (the limit is 1 GiB)");
  EXPECT_NE(ParseError(RawGguf().Header(3, 0, 1).U64(100).Bytes(16).bytes())
                .find("file is truncated: the key of metadata entry 0 of 100 bytes"),
            std::string::npos);
  EXPECT_NE(ParseError(RawGguf().Header(3, 0, 1).Str("k").U32(8).U64(1000).Bytes(8).bytes())
                .find("the string value of key 'k' of 1000 bytes"),
            std::string::npos);
}

TEST(GgufCorruptionTest, KeysAndValueTypes) {
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("").U32(0).U8(1).bytes()),
            "metadata entry 0 has an empty key");
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("k").U32(13).U8(1).bytes()),
            "key 'k': unknown value type 13 (known: 0..12)");
  EXPECT_EQ(
      ParseError(RawGguf().Header(3, 0, 2).Str("k").U32(0).U8(1).Str("k").U32(0).U8(2).bytes()),
      "duplicate metadata key 'k'");
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("k").U32(4).U8(1).Bytes(12).bytes()), "parsed")
      << "a u32 value followed by enough bytes parses";
  EXPECT_NE(ParseError(RawGguf().Header(3, 0, 1).Str("k").U32(10).U8(1).bytes())
                .find("file is truncated: the value of key 'k'"),
            std::string::npos);
}

TEST(GgufCorruptionTest, Arrays) {
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("a").U32(9).U32(99).U64(0).bytes()),
            "key 'a': unknown array element type 99 (known: 0..12)");
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("a").U32(9).U32(0).U64(1ull << 31).bytes()),
            "key 'a': array of 2147483648 elements (the limit is 2^30)");
  EXPECT_NE(
      ParseError(RawGguf().Header(3, 0, 1).Str("a").U32(9).U32(12).U64(1000).Bytes(64).bytes())
          .find("file is truncated: the 1000-element array of key 'a'"),
      std::string::npos);
  // 2^29 strings of at least 8 bytes each cannot fit: refused before any allocation.
  EXPECT_NE(
      ParseError(RawGguf().Header(3, 0, 1).Str("a").U32(9).U32(8).U64(1ull << 29).Bytes(64).bytes())
          .find("file is truncated"),
      std::string::npos);
  RawGguf deep;
  deep.Header(3, 0, 1).Str("deep").U32(9);
  for (int i = 0; i < 20; ++i) deep.U32(9).U64(1);
  deep.U32(0).U64(0);
  EXPECT_EQ(ParseError(deep.bytes()), "key 'deep': arrays nested deeper than 8 levels");
}

TEST(GgufCorruptionTest, Alignment) {
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("general.alignment").U32(4).U32(48).bytes()),
            "general.alignment must be a power of two integer, found 48");
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("general.alignment").U32(4).U32(0).bytes()),
            "general.alignment must be a power of two integer, found 0");
  EXPECT_EQ(ParseError(RawGguf().Header(3, 0, 1).Str("general.alignment").U32(8).Str("32").bytes()),
            "general.alignment must be a power of two integer, found \"32\"");
}

// A file with one tensor info and `data_bytes` of data after the header.
std::vector<uint8_t> OneTensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type,
                               uint64_t offset, size_t data_bytes) {
  RawGguf raw;
  raw.Header(3, 1, 0).Tensor(name, std::move(ne), type, offset).PadTo(32).Bytes(data_bytes);
  return raw.bytes();
}

TEST(GgufCorruptionTest, TensorInfos) {
  EXPECT_EQ(ParseError(OneTensor("t", {4}, 0, 0, 16)), "parsed");
  EXPECT_EQ(ParseError(OneTensor("", {4}, 0, 0, 16)), "tensor 0 has an empty name");
  EXPECT_EQ(ParseError(OneTensor(std::string(64, 'x'), {4}, 0, 0, 16)),
            "tensor '" + std::string(64, 'x') + "': name is 64 bytes long (the limit is 63)");
  EXPECT_EQ(ParseError(OneTensor("t", {1, 1, 1, 1, 1}, 0, 0, 16)),
            "tensor 't' has 5 dimensions (at most 4)");
  EXPECT_EQ(ParseError(OneTensor("t", {~0ull}, 0, 0, 16)), "tensor 't': dimension 0 is negative");
  EXPECT_EQ(ParseError(OneTensor("t", {4}, 4, 0, 16)), "tensor 't' has unknown tensor type 4");
  EXPECT_EQ(ParseError(OneTensor("t", {4}, 1000, 0, 16)),
            "tensor 't' has unknown tensor type 1000");
  EXPECT_EQ(ParseError(OneTensor("t", {48}, 12, 0, 16)),
            "tensor 't': its rows of 48 elements are not a multiple of the q4_K block size 256");
  EXPECT_EQ(ParseError(OneTensor("t", {1ull << 32, 1ull << 32}, 0, 0, 16)),
            "tensor 't' has [4294967296, 4294967296] elements, which overflows a 64-bit count");
  EXPECT_EQ(ParseError(OneTensor("t", {4}, 0, 8, 64)),
            "tensor 't': data offset 8 is not a multiple of the alignment 32");
  EXPECT_EQ(ParseError(OneTensor("t", {8}, 0, 0, 16)),
            "tensor 't' ([8] f32, 32 bytes at data offset 0) extends past the end of the file (80 "
            "bytes)");
  EXPECT_NE(ParseError(OneTensor("t", {4}, 0, ~0ull - 31, 16)).find("extends past the end"),
            std::string::npos)
      << "offset + size overflow is caught";
  RawGguf dup;
  dup.Header(3, 2, 0).Tensor("t", {4}, 0, 0).Tensor("t", {4}, 0, 32).PadTo(32).Bytes(64);
  EXPECT_EQ(ParseError(dup.bytes()), "duplicate tensor name 't'");
  RawGguf nodata;
  nodata.Header(3, 1, 0).Tensor("t", {4}, 0, 0);
  EXPECT_NE(ParseError(nodata.bytes()).find("the tensor data section would start at byte"),
            std::string::npos);
}

TEST(GgufCorruptionTest, MisalignedTensorDataIsRefused) {
  RawGguf raw;
  // general.alignment 1 lets a tensor start at an odd byte.
  raw.Header(3, 1, 1)
      .Str("general.alignment")
      .U32(4)
      .U32(1)
      .Tensor("t", {4}, 0, 1)
      .PadTo(32)
      .Bytes(32);
  std::string error = ParseError(raw.bytes());
  EXPECT_NE(error.find("tensor 't': its data at byte"), std::string::npos) << error;
  EXPECT_NE(error.find("is not 4-byte aligned (general.alignment 1)"), std::string::npos) << error;
}

TEST(GgufCorruptionTest, EveryTruncationIsAnError) {
  std::vector<uint8_t> valid = ValidFile();
  auto whole = GgufFile::Parse(valid);
  ASSERT_TRUE(whole.ok());
  const TensorInfo& last = (*whole)->tensors().back();
  size_t data_end = (*whole)->data_offset() + last.offset + last.n_bytes;
  ASSERT_LT(data_end, valid.size()) << "the writer pads the last tensor too";
  for (size_t n = 0; n < valid.size(); ++n) {
    std::vector<uint8_t> prefix(valid.begin(), valid.begin() + static_cast<long>(n));
    auto f = GgufFile::Parse(prefix);
    // Only the padding after the last tensor can go without losing anything.
    EXPECT_EQ(f.ok(), n >= data_end) << "prefix of " << n << " bytes";
  }
}

TEST(GgufCorruptionTest, RandomMutationsNeverCrash) {
  std::vector<uint8_t> valid = ValidFile();
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> bytes = valid;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    auto f = GgufFile::Parse(bytes);
    if (f.ok()) {
      ++parsed;
      for (const TensorInfo& t : (*f)->tensors()) {  // whatever parses is inside the buffer
        ASSERT_GE(t.data, bytes.data());
        ASSERT_LE(t.data + t.n_bytes, bytes.data() + bytes.size());
      }
    }
  }
  EXPECT_GT(parsed, 0) << "flips inside tensor data should still parse";
}

}  // namespace
}  // namespace corral::gguf
