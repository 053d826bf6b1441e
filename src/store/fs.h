// POSIX file helpers for the store: atomic writes (temp file in the same directory, fsync,
// rename, fsync of the directory), bounded reads, directory listing and pruning. Internal to
// src/store.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace corral::store::internal {

// Called at each step of a write with a stage name ("manifest.write", "blob.rename", ...); a
// non-OK Status makes the write fail there, as if the OS had failed. Tests inject crashes and
// errors through it; production passes an empty function.
using FaultHook = std::function<Status(std::string_view stage)>;

Status CheckFault(const FaultHook& hook, std::string_view stage);

// mkdir -p with mode 0755. Created directories are appended to `created` (when given), so a
// failed write can take them away again.
Status MakeDirs(const std::string& path, std::vector<std::string>* created = nullptr);

Status FsyncDir(const std::string& dir);

// Writes `bytes` to `path` so that `path` holds either its old content or all of `bytes`, never
// a part: temp file `.<name>.tmp-XXXXXX` next to it (a name no listing accepts), write, fsync,
// chmod 0644, rename, fsync the directory. On failure the temp file is removed. `stage` prefixes
// the fault-hook stage names ("manifest" -> "manifest.write", ...).
Status WriteFileAtomic(const std::string& path, std::string_view bytes, const FaultHook& hook,
                       std::string_view stage);

// Reads a regular file of at most `max_bytes`; NotFound when it does not exist. `st` (optional)
// receives its stat.
Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes,
                                    struct stat* st = nullptr);

struct DirEntry {
  std::string name;
  bool is_dir = false;   // after following symlinks
  bool is_file = false;  // regular file, after following symlinks
  bool is_symlink = false;
  struct stat st {};  // stat (following symlinks) when it succeeded, else lstat
};

// The entries of `dir` (no "." or ".."), sorted by name. NotFound when `dir` does not exist.
Result<std::vector<DirEntry>> ListDir(const std::string& dir);

// Removes empty directories below `dir` (depth first; symlinks are not followed), and `dir`
// itself when `remove_self`. Errors are ignored: pruning is best effort.
void PruneEmptyDirs(const std::string& dir, bool remove_self);

}  // namespace corral::store::internal
