// The result of a storage operation: a code a caller can act on and a
// message for people. Built from rocksdb::Status in one place (status.cc) so
// every error class (lock held, disk full, I/O, corruption) maps the same way.
#pragma once

#include <string>
#include <utility>

namespace rocksdb {
class Status;
}

namespace parley::storage {

enum class Code {
  kOk = 0,
  kNotFound,         // get: no such key
  kInvalidArgument,  // bad key, unknown namespace, bad options
  kBusy,             // the database is locked by another process (or handle)
  kIOError,          // read/write/sync failed
  kNoSpace,          // disk full
  kCorruption,       // checksums or metadata do not verify
  kClosed,           // the database was closed; nothing was done
};

const char* code_name(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }
  static Status from_rocksdb(const rocksdb::Status& s);

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", for logs.
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace parley::storage
