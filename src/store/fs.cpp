#include "store/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace corral::store::internal {
namespace {

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status WriteAll(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + what, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Status CheckFault(const FaultHook& hook, std::string_view stage) {
  if (!hook) return Status::Ok();
  return hook(stage);
}

Status MakeDirs(const std::string& path, std::vector<std::string>* created) {
  if (path.empty()) return InvalidArgumentError("empty directory path");
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return IoError("mkdir " + path + ": exists and is not a directory");
  }
  std::string parent = Dirname(path);
  if (parent != path && parent != "." && parent != "/") RETURN_IF_ERROR(MakeDirs(parent, created));
  if (mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return ErrnoError("mkdir " + path, errno);
  }
  if (created != nullptr) created->push_back(path);
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open directory " + dir, errno);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError("fsync directory " + dir, err);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view bytes, const FaultHook& hook,
                       std::string_view stage) {
  std::string dir = Dirname(path);
  std::string prefix(stage);
  std::string tmpl = dir + "/." + Basename(path) + ".tmp-XXXXXX";
  int fd = mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("create temporary file in " + dir, errno);
  const std::string& tmp = tmpl;
  auto fail = [&](Status status) {
    if (fd >= 0) close(fd);
    unlink(tmp.c_str());
    return status;
  };
  Status s = CheckFault(hook, prefix + ".write");
  if (s.ok()) s = WriteAll(fd, bytes, tmp);
  if (!s.ok()) return fail(s);
  s = CheckFault(hook, prefix + ".fsync");
  if (s.ok() && fsync(fd) != 0) s = ErrnoError("fsync " + tmp, errno);
  if (s.ok() && fchmod(fd, 0644) != 0) s = ErrnoError("chmod " + tmp, errno);
  if (!s.ok()) return fail(s);
  int rc = close(fd);
  fd = -1;
  if (rc != 0) return fail(ErrnoError("close " + tmp, errno));
  s = CheckFault(hook, prefix + ".rename");
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoError("rename " + tmp + " to " + path, errno);
  }
  if (!s.ok()) return fail(s);
  // The rename is durable only once the directory entry is on disk.
  return FsyncDir(dir);
}

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes, struct stat* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFoundError(path + ": file does not exist");
    return ErrnoError("open " + path, err);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError("stat " + path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return IoError(path + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    close(fd);
    return ResourceExhaustedError(path + " is " + std::to_string(st.st_size) +
                                  " bytes; the limit is " + std::to_string(max_bytes));
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = read(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return ErrnoError("read " + path, err);
    }
    if (n == 0) break;  // shrank under us: keep what is there
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  close(fd);
  if (out != nullptr) *out = st;
  return data;
}

Result<std::vector<DirEntry>> ListDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    if (err == ENOENT) return NotFoundError(dir + ": directory does not exist");
    return ErrnoError("open directory " + dir, err);
  }
  std::vector<DirEntry> out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    DirEntry entry;
    entry.name = name;
    std::string full = dir + "/" + name;
    struct stat lst {};
    if (lstat(full.c_str(), &lst) != 0) continue;  // vanished
    entry.is_symlink = S_ISLNK(lst.st_mode);
    entry.st = lst;
    if (entry.is_symlink) {
      struct stat st {};
      if (stat(full.c_str(), &st) == 0) entry.st = st;
    }
    entry.is_dir = S_ISDIR(entry.st.st_mode);
    entry.is_file = S_ISREG(entry.st.st_mode);
    out.push_back(std::move(entry));
  }
  closedir(d);
  std::sort(out.begin(), out.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

void PruneEmptyDirs(const std::string& dir, bool remove_self) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  Result<std::vector<DirEntry>> entries = ListDir(dir);
  if (!entries.ok()) return;
  for (const DirEntry& e : *entries) {
    if (e.is_dir && !e.is_symlink) PruneEmptyDirs(dir + "/" + e.name, true);
  }
  if (remove_self) rmdir(dir.c_str());  // fails, harmlessly, when not empty
}

}  // namespace corral::store::internal
